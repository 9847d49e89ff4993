#include "mockmeta/testing/test_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/files.h"

namespace lastcall::mock::testing {
namespace {

int RemainingMs(MonoTime deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - SystemClock::Instance().Monotonic());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

const std::string* ParsedResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

Result<std::unique_ptr<TestConnection>> TestConnection::Connect(const std::string& address,
                                                                unsigned short port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) {
      return InvalidArgument("bad address " + address);
    }
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) {
      return InvalidArgument("bad address " + address);
    }
    len = sizeof(sockaddr_in6);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("socket: ") + ErrnoText(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(fd);
    return Unavailable("connect " + address + ":" + std::to_string(port) + ": " + ErrnoText(err));
  }
  return std::unique_ptr<TestConnection>(new TestConnection(fd));
}

TestConnection::~TestConnection() { ::close(fd_); }

bool TestConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestConnection::Fill(Duration timeout) {
  pollfd p{fd_, POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<ParsedResponse> TestConnection::ReadResponse(Duration timeout, bool to_head) {
  MonoTime deadline = SystemClock::Instance().Monotonic() + timeout;
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(Duration(RemainingMs(deadline)))) return std::nullopt;
  }
  ParsedResponse r;
  std::string_view head(buffer_.data(), header_end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return std::nullopt;
  r.version = std::string(status_line.substr(0, 8));
  r.status = std::stoi(std::string(status_line.substr(9, 3)));
  size_t content_length = 0;
  bool has_length = false;
  while (line_end != std::string_view::npos && line_end < head.size()) {
    size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string_view line = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (EqualsIgnoreCase(name, "Content-Length")) {
      content_length = std::stoul(std::string(value));
      has_length = true;
    }
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  // An interim 1xx answer (100 Continue) has no body and no length.
  if (!has_length && !(r.status >= 100 && r.status < 200)) return std::nullopt;
  if (to_head) content_length = 0;  // the length of the body a GET would have had
  size_t total = header_end + 4 + content_length;
  while (buffer_.size() < total) {
    if (!Fill(Duration(RemainingMs(deadline)))) return std::nullopt;
  }
  r.body = buffer_.substr(header_end + 4, content_length);
  buffer_.erase(0, total);
  return r;
}

TestConnection::Outcome TestConnection::WaitForClose(Duration timeout) {
  if (!buffer_.empty()) return Outcome::kData;
  pollfd p{fd_, POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (rc == 0) return Outcome::kTimeout;
  if (rc < 0) return Outcome::kClosed;
  char buf[1024];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return Outcome::kClosed;
  buffer_.append(buf, static_cast<size_t>(n));
  return Outcome::kData;
}

bool TestConnection::HasData() {
  if (!buffer_.empty()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

std::string MakeRequest(std::string_view method, std::string_view target,
                        const HttpHeaders& headers, std::string_view body) {
  std::string r;
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: mockmeta\r\n");
  for (const auto& [k, v] : headers) r.append(k).append(": ").append(v).append("\r\n");
  if (!body.empty() || method == "PUT" || method == "POST") {
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

}  // namespace lastcall::mock::testing
