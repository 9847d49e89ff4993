// HttpClient: the one way the agent talks HTTP to a metadata service.
//
// An interface so providers can be unit-tested with a scripted fake, and one implementation for
// production on libcurl: one easy handle per endpoint (scheme, host and port), kept between
// requests so its connection stays open (keep-alive; libcurl itself retries a request once on a
// fresh connection when a reused one turns out to be dead). Every request has an overall
// deadline (CURLOPT_TIMEOUT_MS) that includes name resolution (libcurl's threaded resolver) and a
// connect deadline (CURLOPT_CONNECTTIMEOUT_MS). Only http:// and https:// (for operators behind a
// metadata proxy); redirects are never followed; no proxy is taken from the environment
// (http_proxy, ALL_PROXY), only the one the config names; head and body are bounded.
//
// Errors: transport failures come back as a Status (timeout -> kTimeout; refused, reset, empty
// reply or TLS failure -> kUnavailable; an over-long body or head -> kResourceExhausted; a bad
// URL, another scheme or a header that would split the request -> kInvalidArgument; an answer
// that is not HTTP -> kDataLoss). Any HTTP status, 404 and 500 included, is a successful
// exchange: callers decide what a status means.
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

struct HttpClientOptions {
  // Larger bodies fail with kResourceExhausted. Metadata answers are a few hundred bytes.
  size_t max_body_bytes = 64 * 1024;
  // Header bytes are bounded too, so a hostile server cannot grow memory without end.
  size_t max_header_bytes = 16 * 1024;
  // The proxy for every request ("http://proxy:3128"); empty means none, whatever the
  // environment's http_proxy / ALL_PROXY say (config key [poll] proxy).
  std::string proxy;
};

// How much of the TLS library libcurl's global initialisation sets up.
enum class TlsSetup {
  kFull,  // as libcurl does by itself: OpenSSL with openssl.cnf, error strings, name tables
  // No https endpoint is configured: OpenSSL skips openssl.cnf, its error strings and its
  // cipher and digest name tables, which an idle lastcalld would otherwise keep resident
  // (1.2 MiB measured, bench/RESULTS.md "lastcalld footprint"). https:// URLs are then refused
  // with kFailedPrecondition until a restart, rather than run with OpenSSL's built-in defaults
  // in place of the system's openssl.cnf.
  kPlainHttpOnly,
};

// Initialises libcurl once per process; the first call wins, and a client made before any call
// initialises it with kFull. Call it before any thread runs (libcurl's rule for its global init).
// kPlainHttpOnly changes nothing when libcurl's TLS library is not OpenSSL.
void InitHttpTransport(TlsSetup setup);

// False after InitHttpTransport(kPlainHttpOnly): https:// URLs are refused.
bool HttpsAvailable();
inline constexpr std::string_view kHttpsNeedsRestart =
    "https:// endpoints need a restart of lastcalld: it started without one, so OpenSSL was "
    "set up for plain http only";

// The production client (libcurl). Never fails to construct; a handle libcurl cannot create is
// reported by Send().
std::unique_ptr<HttpClient> MakeHttpClient(HttpClientOptions options = {});

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
