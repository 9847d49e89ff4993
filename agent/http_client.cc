#include "agent/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace lastcall {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// State the curl callbacks write into during one transfer.
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
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
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
    return 0;
  }
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new status line (e.g. after "100 Continue"): only the final response's headers count.
    t->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line that ends the headers
  t->response.headers.emplace_back(std::string(TrimWhitespace(line.substr(0, colon))),
                                   std::string(TrimWhitespace(line.substr(colon + 1))));
  return n;
}

Status MapCurlError(CURLcode code, const char* detail, std::string_view what) {
  std::string msg = std::string(what) + ": " + curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') msg += std::string(" (") + detail + ")";
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Timeout(std::move(msg));
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return Unavailable(std::move(msg));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgument(std::move(msg));
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
      return DataLoss(std::move(msg));
    case CURLE_FILESIZE_EXCEEDED:
      return ResourceExhausted(std::move(msg));
    default:
      return Unavailable(std::move(msg));
  }
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options) : options_(options) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return;
    // Options that are the same for every request are set once: curl_easy_reset and a full
    // re-setup per request cost measurable CPU at one poll every 100 ms.
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    // Metadata must never go through a proxy, whatever the environment says.
    curl_easy_setopt(curl_, CURLOPT_PROXY, "");
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_body_bytes));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &OnHeader);
  }
  ~CurlHttpClient() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override {
    const std::string what = request.method + " " + request.url;
    if (curl_ == nullptr) return Internal(what + ": libcurl could not create a handle");
    if (request.method != "GET" && request.method != "PUT") {
      return InvalidArgument(what + ": unsupported method");
    }
    // libcurl reads a zero timeout as "wait forever"; every request here must have a limit.
    if (request.timeout <= Duration::zero() || request.connect_timeout <= Duration::zero()) {
      return InvalidArgument(what + ": timeouts must be positive");
    }
    Transfer t;
    t.max_body = options_.max_body_bytes;
    t.max_header = options_.max_header_bytes;
    char error[CURL_ERROR_SIZE] = {0};

    struct curl_slist* headers = nullptr;
    // "Expect: 100-continue" would add a round trip; an empty Content-Type drops curl's
    // form-encoding default for PUT bodies.
    headers = curl_slist_append(headers, "Expect:");
    if (request.method == "PUT") headers = curl_slist_append(headers, "Content-Type:");
    for (const auto& [name, value] : request.headers) {
      std::string line = name + ": " + value;
      headers = curl_slist_append(headers, line.c_str());
    }

    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(request.connect_timeout, request.timeout).count()));
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
    // The slist and error buffer must not outlive this call in the handle's options.
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(headers);

    if (t.body_too_large) {
      return ResourceExhausted(what + ": response body larger than " +
                               std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (t.headers_too_large) {
      return ResourceExhausted(what + ": response headers larger than " +
                               std::to_string(options_.max_header_bytes) + " bytes");
    }
    if (code != CURLE_OK) return MapCurlError(code, error, what);
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = static_cast<int>(status);
    return std::move(t.response);
  }

 private:
  CurlHttpClientOptions options_;
  CURL* curl_ = nullptr;
};

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::unique_ptr<HttpClient> MakeCurlHttpClient(CurlHttpClientOptions options) {
  return std::make_unique<CurlHttpClient>(options);
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
