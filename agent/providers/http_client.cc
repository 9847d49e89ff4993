#include "agent/providers/http_client.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <mutex>

#include "common/files.h"

namespace lastcall {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Bytes that would let a header smuggle a second line into the request: libcurl sends the
// header list as given.
bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// What the callbacks write into during one transfer.
struct Transfer {
  HttpResponse response;
  size_t max_body = 0;
  size_t max_header = 0;
  size_t header_bytes = 0;
  bool body_too_large = false;
  bool headers_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (t->response.body.size() + n > t->max_body) {
    t->body_too_large = true;
    return CURL_WRITEFUNC_ERROR;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  t->header_bytes += n;
  if (t->header_bytes > t->max_header) {
    t->headers_too_large = true;
    return 0;  // aborts the transfer
  }
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new status line (after "100 Continue"): only the final response's headers count.
    t->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line that ends the head
  t->response.headers.emplace_back(std::string(TrimWhitespace(line.substr(0, colon))),
                                   std::string(TrimWhitespace(line.substr(colon + 1))));
  return n;
}

std::string Millis(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

// The endpoint a URL talks to ("http://127.0.0.1:8080"), which names its handle; parsed by
// libcurl's URL API so that the handle and the transfer agree on what the URL means.
Result<std::string> Endpoint(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return Internal("libcurl could not allocate a URL handle");
  std::string out;
  Status st = Status::Ok();
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  if (CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    st = InvalidArgument(std::string("bad URL: ") + curl_url_strerror(rc));
  } else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (std::strcmp(scheme, "http") != 0 && std::strcmp(scheme, "https") != 0)) {
    st = InvalidArgument("only http:// and https:// URLs are supported");
  } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
             curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    st = InvalidArgument("bad URL: no host or port");
  } else {
    out = std::string(scheme) + "://" + host + ":" + port;
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  if (!st.ok()) return st;
  return out;
}

// The Status for a failed transfer. `detail` is libcurl's error buffer.
Status TransferError(CURLcode code, CURL* curl, const char* detail, const HttpRequest& request,
                     Duration connect_timeout) {
  std::string msg = curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') msg = detail;
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  if (os_errno != 0) msg += std::string(" (") + ErrnoText(static_cast<int>(os_errno)) + ")";
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
      // No pre-transfer time: the connection was never ready, the connect limit fired.
      curl_off_t pretransfer = 0;
      curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
      std::string phase = pretransfer == 0 ? " connecting" : "";
      Duration limit = pretransfer == 0 ? connect_timeout : request.timeout;
      return Timeout("timed out after " + Millis(limit) + phase + ": " + msg);
    }
    case CURLE_UNSUPPORTED_PROTOCOL:  // the URL was checked: this is an HTTP/0.9 answer
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
      return DataLoss("not an HTTP answer: " + msg);
    case CURLE_URL_MALFORMAT:
      return InvalidArgument(msg);
    default:  // refused, reset, empty reply, cut short, TLS failures
      return Unavailable(msg);
  }
}

// One easy handle and its connection: the options that are the same for every request to it
// are set once (a reset and full set-up per request cost measurable CPU at 10 polls a second).
class EndpointHandle {
 public:
  EndpointHandle(std::string endpoint, const HttpClientOptions& options)
      : endpoint_(std::move(endpoint)), curl_(curl_easy_init()) {
    if (curl_ == nullptr) return;
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    // "" switches off the proxy environment variables; only a configured proxy is used.
    curl_easy_setopt(curl_, CURLOPT_PROXY, options.proxy.c_str());
    // No SIGALRM for timeouts: the threaded resolver keeps name lookups inside the deadline.
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    // A declared Content-Length over the bound is refused before a byte of it is read.
    curl_easy_setopt(curl_, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options.max_body_bytes));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_);
  }
  ~EndpointHandle() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }
  EndpointHandle(const EndpointHandle&) = delete;
  EndpointHandle& operator=(const EndpointHandle&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  Result<HttpResponse> Perform(const HttpRequest& request, const HttpClientOptions& options);

 private:
  std::string endpoint_;
  CURL* curl_;
  char error_[CURL_ERROR_SIZE] = {};
};

Result<HttpResponse> EndpointHandle::Perform(const HttpRequest& request,
                                             const HttpClientOptions& options) {
  if (curl_ == nullptr) return Internal("libcurl could not create a handle");
  Transfer t;
  t.max_body = options.max_body_bytes;
  t.max_header = options.max_header_bytes;
  error_[0] = '\0';
  // Empty values remove curl's defaults: "Expect: 100-continue" would add a round trip, the
  // form Content-Type is wrong for a PUT, "Accept: */*" says nothing.
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  headers = curl_slist_append(headers, "Accept:");
  if (request.method == "PUT") headers = curl_slist_append(headers, "Content-Type:");
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  const Duration connect_timeout = std::min(request.connect_timeout, request.timeout);
  curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &t);
  if (request.method == "PUT") {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl_, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
  } else {
    // Undo a previous PUT on this handle: HTTPGET clears the body, not the custom verb.
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  }
  CURLcode code = curl_easy_perform(curl_);
  // The header list must not outlive this call in the handle's options.
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);

  if (t.body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return ResourceExhausted("response body larger than " + std::to_string(options.max_body_bytes) +
                             " bytes");
  }
  if (t.headers_too_large) {
    return ResourceExhausted("response headers larger than " +
                             std::to_string(options.max_header_bytes) + " bytes");
  }
  if (code != CURLE_OK) return TransferError(code, curl_, error_, request, connect_timeout);
  long status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = static_cast<int>(status);
  return std::move(t.response);
}

// OpenSSL's OPENSSL_init_ssl options (openssl/crypto.h, openssl/ssl.h; part of its ABI). Each
// "NO_" option marks its part of the initialisation as done, so libcurl's own call, which asks
// for all of them, no longer sets them up.
constexpr uint64_t kOpensslNoLoadCryptoStrings = 0x00000001;
constexpr uint64_t kOpensslNoAddAllCiphers = 0x00000010;
constexpr uint64_t kOpensslNoAddAllDigests = 0x00000020;
constexpr uint64_t kOpensslNoLoadConfig = 0x00000080;
constexpr uint64_t kOpensslNoLoadSslStrings = 0x00100000;

std::atomic<bool> g_https_available{true};

// Sets OpenSSL up without the parts only TLS uses, when libcurl's TLS library is OpenSSL. Found
// with dlsym because lastcalld does not link OpenSSL itself (libcurl does).
bool InitOpensslForPlainHttp() {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  if (v == nullptr || v->ssl_version == nullptr ||
      std::string_view(v->ssl_version).rfind("OpenSSL/", 0) != 0) {
    return false;
  }
  using InitSsl = int (*)(uint64_t, const void*);
  auto init = reinterpret_cast<InitSsl>(::dlsym(RTLD_DEFAULT, "OPENSSL_init_ssl"));
  if (init == nullptr) return false;
  return init(kOpensslNoLoadCryptoStrings | kOpensslNoAddAllCiphers | kOpensslNoAddAllDigests |
                  kOpensslNoLoadConfig | kOpensslNoLoadSslStrings,
              nullptr) == 1;
}

}  // namespace

void InitHttpTransport(TlsSetup setup) {
  static std::once_flag once;
  std::call_once(once, [setup] {
    if (setup == TlsSetup::kPlainHttpOnly && InitOpensslForPlainHttp()) {
      g_https_available = false;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
  });
}

bool HttpsAvailable() { return g_https_available.load(); }

namespace {

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpClientOptions options) : options_(std::move(options)) {
    InitHttpTransport(TlsSetup::kFull);  // no-op when main already chose
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    const std::string what = request.method + " " + request.url;
    auto fail = [&what](const Status& s) { return Status(s.code(), what + ": " + s.message()); };
    if (request.method != "GET" && request.method != "PUT") {
      return InvalidArgument(what + ": unsupported method");
    }
    // libcurl reads a zero timeout as "wait forever"; every request here must have a limit.
    if (request.timeout <= Duration::zero() || request.connect_timeout <= Duration::zero()) {
      return InvalidArgument(what + ": timeouts must be positive");
    }
    if (!HttpsAvailable() && request.url.rfind("https://", 0) == 0) {
      return FailedPrecondition(what + ": " + std::string(kHttpsNeedsRestart));
    }
    if (HasControl(request.url) || request.url.find(' ') != std::string::npos) {
      return InvalidArgument(what + ": the URL contains a space or a control character");
    }
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || name.find_first_of(": ") != std::string::npos || HasControl(name) ||
          HasControl(value)) {
        return InvalidArgument(what + ": bad request header \"" + name + "\"");
      }
    }
    Result<std::string> endpoint = Endpoint(request.url);
    if (!endpoint.ok()) return fail(endpoint.status());
    Result<HttpResponse> r = Handle(*endpoint).Perform(request, options_);
    if (!r.ok()) return fail(r.status());
    return r;
  }

 private:
  // More than one endpoint is rare (cloud detection probes two); a few handles are plenty.
  static constexpr size_t kMaxHandles = 4;

  EndpointHandle& Handle(const std::string& endpoint) {
    auto it = std::find_if(handles_.begin(), handles_.end(),
                           [&](const auto& h) { return h->endpoint() == endpoint; });
    if (it != handles_.end()) return **it;
    if (handles_.size() >= kMaxHandles) handles_.erase(handles_.begin());
    handles_.push_back(std::make_unique<EndpointHandle>(endpoint, options_));
    return *handles_.back();
  }

  HttpClientOptions options_;
  std::vector<std::unique_ptr<EndpointHandle>> handles_;
};

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::unique_ptr<HttpClient> MakeHttpClient(HttpClientOptions options) {
  return std::make_unique<CurlHttpClient>(std::move(options));
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string url(base);
  url += '/';
  url += path;
  return url;
}

Status HttpStatusError(int status, std::string_view what) {
  std::string msg = std::string(what) + ": HTTP " + std::to_string(status);
  if (status == 404) return NotFound(std::move(msg));
  if (status == 401 || status == 403) return PermissionDenied(std::move(msg));
  return Unavailable(std::move(msg));
}

std::string_view TrimWhitespace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

}  // namespace lastcall
