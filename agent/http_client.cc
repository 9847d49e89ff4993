#include "agent/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>

#include "agent/http_response_parser.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Bytes that would let a URL or header value smuggle a second line into the request.
bool HasSpaceOrControl(std::string_view s, bool allow_space) {
  return std::any_of(s.begin(), s.end(), [allow_space](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || (!allow_space && u == ' ');
  });
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Fills *out from an http:// URL; the Status message says what is wrong (without the URL).
Status SplitUrl(std::string_view url, HttpUrl* out) {
  if (StartsWithIgnoreCase(url, "https://")) {
    return InvalidArgument(
        "https is not supported: metadata services are plain HTTP on a link-local address, "
        "use http://");
  }
  if (!StartsWithIgnoreCase(url, "http://")) {
    return InvalidArgument("only absolute http:// URLs are supported");
  }
  if (HasSpaceOrControl(url, /*allow_space=*/false) ||
      std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) > 0x7e; })) {
    return InvalidArgument("contains a space, a control or a non-ASCII character");
  }
  std::string_view rest = url.substr(7);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string_view target = rest.substr(authority.size());
  target = target.substr(0, target.find('#'));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("user info (user@host) is not supported");
  }
  std::string_view port;
  bool bracketed = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unterminated IPv6 literal");
    out->host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return InvalidArgument("unexpected text after the IPv6 literal");
    }
    if (!after.empty()) port = after.substr(1);
    in6_addr a6{};
    if (::inet_pton(AF_INET6, out->host.c_str(), &a6) != 1) {
      return InvalidArgument("bad IPv6 literal [" + out->host + "]");
    }
    bracketed = true;
  } else {
    size_t colon = authority.find(':');
    if (colon != authority.rfind(':')) {
      return InvalidArgument("bad host \"" + std::string(authority) +
                             "\" (IPv6 literals go in brackets)");
    }
    out->host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    bool name_ok = std::all_of(out->host.begin(), out->host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
    if (!name_ok) {
      return InvalidArgument("bad host \"" + out->host + "\" (IPv6 literals go in brackets)");
    }
  }
  if (out->host.empty()) return InvalidArgument("no host");
  out->port = 80;
  if (!port.empty()) {
    bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
    int p = digits ? std::stoi(std::string(port)) : 0;
    if (p < 1 || p > 65535) return InvalidArgument("bad port \"" + std::string(port) + "\"");
    out->port = static_cast<uint16_t>(p);
  }
  out->target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  out->host_header = bracketed ? "[" + out->host + "]" : out->host;
  if (out->port != 80) out->host_header += ":" + std::to_string(out->port);
  return Status::Ok();
}

// Owns a socket descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

MonoTime Now() { return SystemClock::Instance().Monotonic(); }

std::string Millis(Duration d) { return std::to_string(d.count()) + "ms"; }

// Waits until `fd` has one of `events` or `deadline` passes. False on timeout. A poll error
// counts as ready (the next send/recv reports it), but never past the deadline, so a poll that
// keeps failing cannot turn the caller's loop into one without end.
bool WaitFor(int fd, short events, MonoTime deadline) {
  for (;;) {
    auto left = std::chrono::ceil<milliseconds>(deadline - Now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return Now() < deadline;
  }
}

// The addresses to try for a host: an IP literal directly (no resolver, which would also load
// NSS modules into the daemon), a name through getaddrinfo.
Status Resolve(const HttpUrl& url, std::vector<sockaddr_storage>* addrs,
               std::vector<socklen_t>* lens) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, url.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(url.port);
    addrs->push_back(ss);
    lens->push_back(sizeof(sockaddr_in));
    return Status::Ok();
  }
  ss = {};
  if (::inet_pton(AF_INET6, url.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(url.port);
    addrs->push_back(ss);
    lens->push_back(sizeof(sockaddr_in6));
    return Status::Ok();
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(url.port);
  int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Unavailable("cannot resolve host \"" + url.host + "\": " + ::gai_strerror(rc));
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage s{};
    std::memcpy(&s, a->ai_addr, a->ai_addrlen);
    addrs->push_back(s);
    lens->push_back(a->ai_addrlen);
  }
  ::freeaddrinfo(res);
  if (addrs->empty()) return Unavailable("host \"" + url.host + "\" has no address");
  return Status::Ok();
}

// Opens a connection to url's host:port, trying each address until one answers.
Result<Fd> Connect(const HttpUrl& url, MonoTime deadline, Duration connect_timeout) {
  std::vector<sockaddr_storage> addrs;
  std::vector<socklen_t> lens;
  LASTCALL_RETURN_IF_ERROR(Resolve(url, &addrs, &lens));
  int last_error = 0;
  for (size_t i = 0; i < addrs.size(); ++i) {
    Fd fd(::socket(addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last_error = errno;
      continue;
    }
    // Requests are one small write each; Nagle would only delay them.
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const auto* sa = reinterpret_cast<const sockaddr*>(&addrs[i]);
    if (::connect(fd.get(), sa, lens[i]) == 0) return fd;
    if (errno != EINPROGRESS) {
      last_error = errno;
      continue;
    }
    if (!WaitFor(fd.get(), POLLOUT, deadline)) {
      return Timeout("timed out after " + Millis(connect_timeout) + " connecting to " +
                     url.host_header);
    }
    int err = 0;
    socklen_t err_len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err == 0) return fd;
    last_error = err;
  }
  return Unavailable("cannot connect to " + url.host_header + ": " + ErrnoText(last_error));
}

std::string BuildRequest(const HttpRequest& request, const HttpUrl& url) {
  std::string wire;
  wire.reserve(256 + request.body.size());
  wire += request.method;
  wire += ' ';
  wire += url.target;
  wire += " HTTP/1.1\r\n";
  bool has_host = false;
  bool has_length = false;
  for (const auto& [name, value] : request.headers) {
    has_host = has_host || EqualsIgnoreCase(name, "Host");
    has_length = has_length || EqualsIgnoreCase(name, "Content-Length");
  }
  if (!has_host) wire += "Host: " + url.host_header + "\r\n";
  for (const auto& [name, value] : request.headers) {
    wire += name;
    wire += ": ";
    wire += value;
    wire += "\r\n";
  }
  const bool put = request.method == "PUT";
  if (put && !has_length) wire += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  wire += "\r\n";
  if (put) wire += request.body;
  return wire;
}

// One request and its response on a connected socket. *leftover is set when the server sent
// bytes after the response (the connection is then not reused).
Status Exchange(int fd, const std::string& wire, MonoTime deadline, Duration timeout,
                HttpResponseParser* parser, bool* leftover) {
  size_t sent = 0;
  while (sent < wire.size()) {
    ssize_t n = ::send(fd, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd, POLLOUT, deadline)) {
        return Timeout("timed out after " + Millis(timeout) + " sending the request");
      }
    } else if (errno != EINTR) {
      return Unavailable("sending the request failed: " + ErrnoText(errno));
    }
  }
  char buf[8192];
  while (!parser->done()) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      Result<size_t> used = parser->Feed(std::string_view(buf, static_cast<size_t>(n)));
      if (!used.ok()) return used.status();
      if (*used < static_cast<size_t>(n)) *leftover = true;
    } else if (n == 0) {
      LASTCALL_RETURN_IF_ERROR(parser->FinishAtEof());
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd, POLLIN, deadline)) {
        return Timeout("timed out after " + Millis(timeout) +
                       (parser->started() ? " reading the response" : " waiting for the response"));
      }
    } else if (errno != EINTR) {
      return Unavailable("receiving the response failed: " + ErrnoText(errno));
    }
  }
  return Status::Ok();
}

class SocketHttpClient final : public HttpClient {
 public:
  explicit SocketHttpClient(HttpClientOptions options) : options_(options) {}

  Result<HttpResponse> Send(const HttpRequest& request) override {
    const std::string what = request.method + " " + request.url;
    auto fail = [&what](const Status& s) { return Status(s.code(), what + ": " + s.message()); };
    if (request.method != "GET" && request.method != "PUT") {
      return InvalidArgument(what + ": unsupported method");
    }
    if (request.timeout <= Duration::zero() || request.connect_timeout <= Duration::zero()) {
      return InvalidArgument(what + ": timeouts must be positive");
    }
    HttpUrl url;
    if (Status st = SplitUrl(request.url, &url); !st.ok()) return fail(st);
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || name.find(':') != std::string::npos ||
          HasSpaceOrControl(name, /*allow_space=*/false) ||
          HasSpaceOrControl(value, /*allow_space=*/true)) {
        return InvalidArgument(what + ": bad request header \"" + name + "\"");
      }
    }
    const std::string wire = BuildRequest(request, url);
    // One deadline for the whole exchange, retry included; connecting has its own, shorter one.
    const MonoTime start = Now();
    const MonoTime deadline = start + request.timeout;
    const Duration connect_timeout = std::min(request.connect_timeout, request.timeout);
    const std::string key = url.host_header + "|" + std::to_string(url.port);

    Fd fd = TakeIdle(key);
    bool reused = fd.valid();
    for (;;) {
      if (!fd.valid()) {
        // The retry's connect gets its own connect timeout, within the overall deadline.
        Result<Fd> c = Connect(url, std::min(Now() + connect_timeout, deadline), connect_timeout);
        if (!c.ok()) return fail(c.status());
        fd = std::move(c).value();
      }
      HttpResponseParser parser({options_.max_header_bytes, options_.max_body_bytes});
      bool leftover = false;
      Status st = Exchange(fd.get(), wire, deadline, request.timeout, &parser, &leftover);
      if (st.ok()) {
        if (parser.keep_alive() && !leftover) PutIdle(key, std::move(fd));
        return std::move(parser.response());
      }
      fd.Close();
      // A kept-alive connection the server closed while it sat idle: the request never
      // reached anyone, so it is safe to send again (GET and the token PUT are idempotent).
      if (reused && !parser.started() && st.code() == StatusCode::kUnavailable) {
        reused = false;
        continue;
      }
      return fail(st);
    }
  }

 private:
  struct Idle {
    std::string key;
    Fd fd;
  };
  // More than one host is rare (cloud detection probes two); a few idle sockets are plenty.
  static constexpr size_t kMaxIdle = 4;

  // The idle connection to `key`, if there is one that still looks usable.
  Fd TakeIdle(const std::string& key) {
    auto it = std::find_if(idle_.begin(), idle_.end(), [&](const Idle& i) { return i.key == key; });
    if (it == idle_.end()) return Fd();
    Fd fd = std::move(it->fd);
    idle_.erase(it);
    // An idle connection has nothing to read: readable means the server closed it (EOF) or
    // sent something unasked. Either way it is not worth a request.
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) fd.Close();
    return fd;
  }

  void PutIdle(const std::string& key, Fd fd) {
    if (idle_.size() >= kMaxIdle) idle_.erase(idle_.begin());
    idle_.push_back(Idle{key, std::move(fd)});
  }

  HttpClientOptions options_;
  std::vector<Idle> idle_;
};

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::unique_ptr<HttpClient> MakeHttpClient(HttpClientOptions options) {
  return std::make_unique<SocketHttpClient>(options);
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  Status st = SplitUrl(url, &out);
  if (!st.ok()) return InvalidArgument("bad URL \"" + std::string(url) + "\": " + st.message());
  return out;
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
