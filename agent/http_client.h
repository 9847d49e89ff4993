// HttpClient: the one way the agent talks HTTP to a metadata service.
//
// An interface so providers can be unit-tested with a scripted fake, and one libcurl
// implementation for production. The libcurl client keeps one easy handle, so consecutive
// requests to the same host reuse one keep-alive connection (polling every 2 s must not open a
// socket each time). Metadata traffic is local by nature: the client never uses a proxy (not
// even one from http_proxy / no_proxy in the environment) and never follows redirects.
// Every request has a total and a connect timeout; response bodies are bounded.
//
// Errors: transport failures come back as a Status (timeout -> kTimeout; refused, reset or
// empty reply -> kUnavailable; an over-long body -> kResourceExhausted; a bad URL ->
// kInvalidArgument). Any HTTP status, 404 and 500 included, is a successful exchange: callers
// decide what a status means.
//
// Thread-safety: an HttpClient is not thread-safe; use one per thread (the poller owns one).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // "GET" or "PUT"
  std::string url;             // absolute http:// URL
  HttpHeaders headers;
  std::string body;                                    // sent with PUT
  Duration timeout = std::chrono::milliseconds(1000);  // whole exchange
  Duration connect_timeout = std::chrono::milliseconds(1000);
};

struct HttpResponse {
  int status = 0;
  std::string body;
  // Response headers in arrival order; names as the server sent them.
  HttpHeaders headers;

  // The first header of that name (case-insensitive), trimmed.
  std::optional<std::string> Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct CurlHttpClientOptions {
  // Larger bodies fail with kResourceExhausted. Metadata answers are a few hundred bytes.
  size_t max_body_bytes = 64 * 1024;
  // Header bytes are bounded too, so a hostile server cannot grow memory without end.
  size_t max_header_bytes = 16 * 1024;
};

// The production client (libcurl). Never fails to construct; a broken libcurl shows up as a
// kInternal Status from Send().
std::unique_ptr<HttpClient> MakeCurlHttpClient(CurlHttpClientOptions options = {});

// Joins a base URL that may carry a path prefix ("http://127.0.0.1:8080/aws/i-1/") and an
// absolute path ("/latest/api/token") with exactly one slash between them.
std::string JoinUrl(std::string_view base, std::string_view path);

// Maps a non-2xx HTTP status of `what` (e.g. "GET http://.../spot/instance-action") to a
// Status: 404 -> kNotFound, 401/403 -> kPermissionDenied, 429 and 5xx -> kUnavailable,
// anything else -> kUnavailable with the status named in the message.
Status HttpStatusError(int status, std::string_view what);

// Trims ASCII whitespace (spaces, tabs, CR, LF) from both ends.
std::string_view TrimWhitespace(std::string_view s);

}  // namespace lastcall
