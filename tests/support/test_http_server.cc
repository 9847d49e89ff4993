#include "tests/support/test_http_server.h"

#include <algorithm>
#include <boost/asio.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "common/time_format.h"

namespace lastcall::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kMaxHead = size_t{16} * 1024;
constexpr size_t kMaxBody = size_t{64} * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<std::string> FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

TestResponse Default404() {
  TestResponse r;
  r.status = 404;
  r.headers = {{"Content-Type", "text/html"}};
  r.body =
      "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\">\n <head>\n  <title>404 - Not Found</title>\n"
      " </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n";
  return r;
}

}  // namespace

TestResponse TestResponse::Text(std::string body, int status) {
  TestResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TestResponse TestResponse::Status(int status, std::string body) {
  return Text(std::move(body), status);
}

TestResponse TestResponse::Drop() {
  TestResponse r;
  r.drop = true;
  return r;
}

TestResponse& TestResponse::WithHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

TestResponse& TestResponse::WithDelay(std::chrono::milliseconds d) {
  delay = d;
  return *this;
}

TestResponse& TestResponse::WithClose() {
  close_connection = true;
  return *this;
}

std::optional<std::string> RecordedRequest::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

class TestHttpServer::Impl {
 public:
  Impl() : acceptor_(io_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    default_ = Default404();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() { Stop(); }

  void Stop() {
    std::call_once(stopped_, [this] {
      io_.stop();
      if (thread_.joinable()) thread_.join();
      // Closing the listener makes later connects fail at once (refused) instead of hanging
      // in the backlog, which tests of "connection refused" rely on.
      error_code ignored;
      acceptor_.close(ignored);
    });
  }

  uint16_t port() const { return port_; }

  struct Route {
    std::optional<TestResponse> fixed;
    TestHandler handler;
    std::deque<TestResponse> next;
  };
  using Key = std::pair<std::string, std::string>;

  // Called on the server thread for each complete request.
  TestResponse Respond(const RecordedRequest& req) {
    TestHandler handler;
    TestResponse response;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
      cv_.notify_all();
      // A route's queued responses first, then its handler, then its fixed response; a path
      // with none of them (or no route) gets the default.
      response = default_;
      auto it = routes_.find(Key(req.method, req.path));
      if (it != routes_.end()) {
        Route& route = it->second;
        if (!route.next.empty()) {
          response = std::move(route.next.front());
          route.next.pop_front();
        } else if (route.handler) {
          handler = route.handler;
        } else if (route.fixed) {
          response = *route.fixed;
        }
      }
    }
    if (handler) {
      // Exceptions must not escape into asio; a throwing handler is a test bug shown as 500.
      try {
        response = handler(req);
      } catch (const std::exception& e) {
        response = TestResponse::Status(500, std::string("handler threw: ") + e.what());
      }
    }
    return response;
  }

  std::optional<std::string> DateHeader() {
    std::lock_guard lock(mu_);
    if (!send_date_) return std::nullopt;
    return FormatHttpDate(fixed_date_ ? *fixed_date_ : SystemClock::Instance().Now());
  }

  int NextConnection() {
    std::lock_guard lock(mu_);
    return ++connections_;
  }

  class Session;

  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::once_flag stopped_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<Key, Route> routes_;
  TestResponse default_;
  std::vector<RecordedRequest> requests_;
  int connections_ = 0;
  bool send_date_ = true;
  std::optional<WallTime> fixed_date_;

 private:
  void Accept();
};

// One connection: read a request, answer it (maybe after a delay), repeat while kept alive.
class TestHttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buf_(kMaxHead + kMaxBody),
        connection_(server.NextConnection()) {}

  void Start() { ReadHead(); }

 private:
  void ReadHead() {
    asio::async_read_until(
        socket_, buf_, "\r\n\r\n",
        [self = shared_from_this()](error_code ec, size_t n) { self->OnHead(ec, n); });
  }

  void OnHead(error_code ec, size_t n) {
    if (ec == asio::error::not_found || (!ec && n > kMaxHead)) {
      return Reply(TestResponse::Status(431).WithClose(), true);
    }
    if (ec) return;  // closed by the client, or the server stops
    std::string head(asio::buffers_begin(buf_.data()),
                     asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
    buf_.consume(n);
    req_ = RecordedRequest{};
    req_.connection = connection_;
    if (!ParseHead(head)) {
      return Reply(TestResponse::Status(400, "bad request").WithClose(), true);
    }
    size_t length = 0;
    if (auto cl = req_.Header("Content-Length")) {
      try {
        length = std::stoul(*cl);
      } catch (const std::exception&) {
        return Reply(TestResponse::Status(400).WithClose(), true);
      }
    }
    if (req_.Header("Transfer-Encoding")) {
      return Reply(TestResponse::Status(501).WithClose(), true);
    }
    if (length > kMaxBody) {
      return Reply(TestResponse::Status(413).WithClose(), true);
    }
    if (buf_.size() >= length) return OnBody(length);
    asio::async_read(socket_, buf_, asio::transfer_exactly(length - buf_.size()),
                     [self = shared_from_this(), length](error_code e, size_t) {
                       if (!e) self->OnBody(length);
                     });
  }

  bool ParseHead(const std::string& head) {
    size_t eol = head.find("\r\n");
    std::string_view line(head.data(), eol);
    size_t sp1 = line.find(' ');
    size_t sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return false;
    req_.method = std::string(line.substr(0, sp1));
    req_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::string_view version = line.substr(sp2 + 1);
    if (!version.starts_with("HTTP/1.")) return false;
    http10_ = version == "HTTP/1.0";
    req_.path = req_.target.substr(0, req_.target.find('?'));
    size_t pos = eol + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos || end == pos) break;
      std::string_view h(head.data() + pos, end - pos);
      size_t colon = h.find(':');
      if (colon == std::string_view::npos) return false;
      req_.headers.emplace_back(std::string(Trim(h.substr(0, colon))),
                                std::string(Trim(h.substr(colon + 1))));
      pos = end + 2;
    }
    return true;
  }

  void OnBody(size_t length) {
    req_.body.assign(asio::buffers_begin(buf_.data()),
                     asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(length));
    buf_.consume(length);
    bool close = http10_;
    if (auto c = req_.Header("Connection")) {
      if (EqualsIgnoreCase(*c, "close")) close = true;
      if (EqualsIgnoreCase(*c, "keep-alive")) close = false;
    }
    TestResponse response = server_.Respond(req_);
    close = close || response.close_connection;
    if (response.delay.count() > 0) {
      timer_.expires_after(response.delay);
      timer_.async_wait([self = shared_from_this(), response = std::move(response),
                         close](error_code ec) mutable {
        if (!ec) self->Reply(response, close);
      });
      return;
    }
    Reply(response, close);
  }

  void Reply(const TestResponse& response, bool close) {
    error_code ignored;
    if (response.drop) {
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      return;
    }
    out_ = "HTTP/1.1 " + std::to_string(response.status) + " " +
           std::string(Reason(response.status)) + "\r\n";
    for (const auto& [n, v] : response.headers) out_ += n + ": " + v + "\r\n";
    if (auto date = server_.DateHeader()) out_ += "Date: " + *date + "\r\n";
    out_ += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    if (close) out_ += "Connection: close\r\n";
    out_ += "\r\n";
    out_ += response.body;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), close](error_code ec, size_t) {
                        error_code ignore;
                        if (ec || close) {
                          self->socket_.shutdown(tcp::socket::shutdown_both, ignore);
                          self->socket_.close(ignore);
                          return;
                        }
                        self->ReadHead();
                      });
  }

  Impl& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buf_;
  int connection_;
  RecordedRequest req_;
  bool http10_ = false;
  std::string out_;
};

void TestHttpServer::Impl::Accept() {
  acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
    } else {
      std::make_shared<Session>(*this, std::move(socket))->Start();
    }
    Accept();
  });
}

TestHttpServer::TestHttpServer() : impl_(std::make_unique<Impl>()) {}
TestHttpServer::~TestHttpServer() { impl_->Stop(); }

std::string TestHttpServer::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port());
}
uint16_t TestHttpServer::port() const { return impl_->port(); }

void TestHttpServer::Set(const std::string& method, const std::string& path,
                         TestResponse response) {
  std::lock_guard lock(impl_->mu_);
  auto& route = impl_->routes_[{method, path}];
  route.fixed = std::move(response);
  route.handler = nullptr;
}

void TestHttpServer::SetHandler(const std::string& method, const std::string& path,
                                TestHandler handler) {
  std::lock_guard lock(impl_->mu_);
  auto& route = impl_->routes_[{method, path}];
  route.handler = std::move(handler);
  route.fixed.reset();
}

void TestHttpServer::SetNext(const std::string& method, const std::string& path,
                             const TestResponse& response, int count) {
  std::lock_guard lock(impl_->mu_);
  auto& route = impl_->routes_[{method, path}];
  for (int i = 0; i < count; ++i) route.next.push_back(response);
}

void TestHttpServer::Remove(const std::string& method, const std::string& path) {
  std::lock_guard lock(impl_->mu_);
  impl_->routes_.erase({method, path});
}

void TestHttpServer::SetDefault(TestResponse response) {
  std::lock_guard lock(impl_->mu_);
  impl_->default_ = std::move(response);
}

void TestHttpServer::SetDate(std::optional<WallTime> date) {
  std::lock_guard lock(impl_->mu_);
  impl_->send_date_ = date.has_value();
  impl_->fixed_date_ = date;
}

void TestHttpServer::UseRealDate() {
  std::lock_guard lock(impl_->mu_);
  impl_->send_date_ = true;
  impl_->fixed_date_.reset();
}

std::vector<RecordedRequest> TestHttpServer::Requests() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->requests_;
}

size_t TestHttpServer::RequestCount(const std::string& method, const std::string& path) const {
  std::lock_guard lock(impl_->mu_);
  return static_cast<size_t>(std::count_if(
      impl_->requests_.begin(), impl_->requests_.end(),
      [&](const RecordedRequest& r) { return r.method == method && r.path == path; }));
}

void TestHttpServer::ClearRequests() {
  std::lock_guard lock(impl_->mu_);
  impl_->requests_.clear();
}

int TestHttpServer::ConnectionsAccepted() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->connections_;
}

bool TestHttpServer::WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu_);
  return impl_->cv_.wait_for(lock, timeout, [&] { return impl_->requests_.size() >= n; });
}

bool TestHttpServer::WaitForRequests(const std::string& method, const std::string& path, size_t n,
                                     std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu_);
  return impl_->cv_.wait_for(lock, timeout, [&] {
    return static_cast<size_t>(std::count_if(impl_->requests_.begin(), impl_->requests_.end(),
                                             [&](const RecordedRequest& r) {
                                               return r.method == method && r.path == path;
                                             })) >= n;
  });
}

void TestHttpServer::Stop() { impl_->Stop(); }

void ServeAwsIdentity(TestHttpServer& server, const std::string& instance_id) {
  server.Set("PUT", "/latest/api/token",
             TestResponse::Text("tok").WithHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600"));
  const std::pair<const char*, std::string> meta[] = {{"instance-id", instance_id},
                                                      {"instance-type", "m5.large"},
                                                      {"placement/availability-zone", "us-east-1a"},
                                                      {"placement/region", "us-east-1"},
                                                      {"events/maintenance/scheduled", "[]"}};
  for (const auto& [path, body] : meta) {
    server.Set("GET", std::string("/latest/meta-data/") + path, TestResponse::Text(body));
  }
}

}  // namespace lastcall::testing
