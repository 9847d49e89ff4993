// HttpClient: the one way the agent talks HTTP to a metadata service.
//
// An interface so providers can be unit-tested with a scripted fake, and one implementation for
// production: a small plain-HTTP/1.1 client over POSIX sockets (not libcurl, whose 40-odd
// shared libraries alone cost lastcalld ~7 MiB of RSS; see docs/lastcalld.md). Metadata
// services are plain HTTP on a link-local address, so it speaks http:// only. It keeps one
// idle keep-alive connection per host:port, so polling every 2 s does not open a socket each
// time; a request that fails on a reused connection before any response byte arrived (the
// server closed it while idle) is retried once on a fresh connection. It never uses a proxy
// (whatever http_proxy says) and never follows redirects. Every request has one overall
// deadline (connect + send + receive) and a connect deadline; head and body are bounded.
//
// Errors: transport failures come back as a Status (timeout -> kTimeout; refused, reset or
// empty reply -> kUnavailable; an over-long body or head -> kResourceExhausted; a bad or
// https URL -> kInvalidArgument; an answer that is not HTTP -> kDataLoss). Any HTTP status,
// 404 and 500 included, is a successful exchange: callers decide what a status means.
//
// Thread-safety: an HttpClient is not thread-safe; use one per thread (the poller owns one).
#pragma once

#include <cstddef>
#include <cstdint>
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

struct HttpClientOptions {
  // Larger bodies fail with kResourceExhausted. Metadata answers are a few hundred bytes.
  size_t max_body_bytes = 64 * 1024;
  // Header bytes are bounded too, so a hostile server cannot grow memory without end.
  size_t max_header_bytes = 16 * 1024;
};

// The production client (plain HTTP/1.1 over POSIX sockets). Never fails to construct.
std::unique_ptr<HttpClient> MakeHttpClient(HttpClientOptions options = {});

// An http:// URL split for a request. Host is without brackets ("::1"); target is the path
// plus query ("/" when the URL has none); host_header is what goes in the Host header.
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string target;
  std::string host_header;
};

// Splits an absolute http:// URL. kInvalidArgument naming the problem for another scheme
// (https included: metadata services are plain HTTP), user info, a bad port, an unterminated
// IPv6 literal, no host, or spaces and control characters anywhere.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

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
