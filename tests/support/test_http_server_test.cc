// The test server's own tests, with a raw blocking socket client so that they do not depend
// on the HTTP client under test.
#include "tests/support/test_http_server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "common/time_format.h"

namespace lastcall::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// One blocking TCP connection to the server.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void Write(const std::string& data) { asio::write(socket_, asio::buffer(data)); }
  // Reads one response (head plus Content-Length body); "" when the server closed first.
  std::string ReadResponse() {
    boost::system::error_code ec;
    size_t n = asio::read_until(socket_, buf_, "\r\n\r\n", ec);
    if (ec) return "";
    std::string head(asio::buffers_begin(buf_.data()),
                     asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
    buf_.consume(n);
    size_t length = 0;
    if (size_t p = head.find("Content-Length: "); p != std::string::npos) {
      length = std::stoul(head.substr(p + 16));
    }
    if (buf_.size() < length)
      asio::read(socket_, buf_, asio::transfer_exactly(length - buf_.size()));
    std::string body(asio::buffers_begin(buf_.data()),
                     asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(length));
    buf_.consume(length);
    return head + body;
  }
  // True when the server has closed the connection.
  bool Closed() {
    boost::system::error_code ec;
    char c;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  asio::streambuf buf_;
};

std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

TEST(TestHttpServerTest, UrlIsLoopbackWithAKernelPickedPort) {
  TestHttpServer server;
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));
}

TEST(TestHttpServerTest, ScriptedRouteDefault404AndRecordedRequests) {
  TestHttpServer server;
  server.Set("GET", "/a", TestResponse::Text("hello").WithHeader("X-Test", "1"));
  RawClient c(server.port());
  c.Write(Get("/a?x=1", "X-Req: yes\r\n"));
  std::string r = c.ReadResponse();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("X-Test: 1\r\n"), std::string::npos);
  EXPECT_NE(r.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_TRUE(r.ends_with("\r\n\r\nhello"));
  c.Write(Get("/missing"));
  r = c.ReadResponse();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 404 Not Found")) << r;
  EXPECT_NE(r.find("<title>404 - Not Found</title>"), std::string::npos);

  auto reqs = server.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/a?x=1");
  EXPECT_EQ(reqs[0].path, "/a");
  EXPECT_EQ(reqs[0].Header("x-req"), "yes");
  EXPECT_EQ(server.RequestCount("GET", "/a"), 1u);
  EXPECT_EQ(server.RequestCount("GET", "/missing"), 1u);
  // Both went over one kept-alive connection.
  EXPECT_EQ(reqs[0].connection, 1);
  EXPECT_EQ(reqs[1].connection, 1);
  EXPECT_EQ(server.ConnectionsAccepted(), 1);
}

TEST(TestHttpServerTest, PutBodyHandlerAndSetNext) {
  TestHttpServer server;
  server.SetHandler("PUT", "/echo",
                    [](const RecordedRequest& r) { return TestResponse::Text("got " + r.body); });
  server.SetNext("PUT", "/echo", TestResponse::Status(503), 1);
  RawClient c(server.port());
  const std::string put = "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  c.Write(put);
  EXPECT_TRUE(c.ReadResponse().starts_with("HTTP/1.1 503"));
  c.Write(put);
  EXPECT_TRUE(c.ReadResponse().ends_with("got abc"));
  EXPECT_EQ(server.Requests().back().body, "abc");
}

TEST(TestHttpServerTest, ThrowingHandlerGives500) {
  TestHttpServer server;
  server.SetHandler("GET", "/t", [](const RecordedRequest&) -> TestResponse {
    throw std::runtime_error("boom");
  });
  RawClient c(server.port());
  c.Write(Get("/t"));
  std::string r = c.ReadResponse();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 500")) << r;
  EXPECT_NE(r.find("boom"), std::string::npos);
}

TEST(TestHttpServerTest, DropClosesWithoutAnswer) {
  TestHttpServer server;
  server.Set("GET", "/drop", TestResponse::Drop());
  RawClient c(server.port());
  c.Write(Get("/drop"));
  EXPECT_EQ(c.ReadResponse(), "");
}

TEST(TestHttpServerTest, ConnectionCloseIsHonoured) {
  TestHttpServer server;
  server.Set("GET", "/a", TestResponse::Text("x"));
  RawClient c(server.port());
  c.Write(Get("/a", "Connection: close\r\n"));
  EXPECT_NE(c.ReadResponse().find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.Closed());
}

TEST(TestHttpServerTest, DelayedAnswerDoesNotBlockOtherConnections) {
  TestHttpServer server;
  server.Set("GET", "/slow", TestResponse::Text("late").WithDelay(std::chrono::seconds(30)));
  server.Set("GET", "/fast", TestResponse::Text("now"));
  RawClient slow(server.port());
  slow.Write(Get("/slow"));
  ASSERT_TRUE(server.WaitForRequests(1, std::chrono::seconds(5)));
  RawClient fast(server.port());
  fast.Write(Get("/fast"));
  EXPECT_TRUE(fast.ReadResponse().ends_with("now"));
  EXPECT_EQ(server.ConnectionsAccepted(), 2);
  server.Stop();  // must not wait for the 30 s delay
}

TEST(TestHttpServerTest, FakeDateAndNoDate) {
  TestHttpServer server;
  server.Set("GET", "/a", TestResponse::Text("x"));
  RawClient c(server.port());
  c.Write(Get("/a"));
  EXPECT_NE(c.ReadResponse().find("\r\nDate: "), std::string::npos);
  const WallTime fixed = FromUnixSeconds(1'600'000'000);
  server.SetDate(fixed);
  c.Write(Get("/a"));
  EXPECT_NE(c.ReadResponse().find("Date: " + FormatHttpDate(fixed) + "\r\n"), std::string::npos);
  server.SetDate(std::nullopt);
  c.Write(Get("/a"));
  EXPECT_EQ(c.ReadResponse().find("Date:"), std::string::npos);
}

TEST(TestHttpServerTest, OversizedAndMalformedRequestsAreRefused) {
  TestHttpServer server;
  {
    RawClient c(server.port());
    c.Write("GET /a HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_TRUE(c.ReadResponse().starts_with("HTTP/1.1 431"));
  }
  {
    RawClient c(server.port());
    c.Write("PUT /a HTTP/1.1\r\nContent-Length: 999999\r\n\r\n");
    EXPECT_TRUE(c.ReadResponse().starts_with("HTTP/1.1 413"));
  }
  {
    RawClient c(server.port());
    c.Write("NONSENSE\r\n\r\n");
    EXPECT_TRUE(c.ReadResponse().starts_with("HTTP/1.1 400"));
  }
  EXPECT_TRUE(server.Requests().empty());
}

TEST(TestHttpServerTest, WaitForRequestsTimesOut) {
  TestHttpServer server;
  EXPECT_FALSE(server.WaitForRequests(1, std::chrono::milliseconds(20)));
  EXPECT_FALSE(server.WaitForRequests("GET", "/a", 1, std::chrono::milliseconds(20)));
}

TEST(TestHttpServerTest, WaitForRequestsToAPath) {
  TestHttpServer server;
  RawClient c(server.port());
  c.Write(Get("/b"));
  c.Write(Get("/a"));
  EXPECT_TRUE(server.WaitForRequests("GET", "/a", 1, std::chrono::seconds(5)));
  EXPECT_FALSE(server.WaitForRequests("GET", "/a", 2, std::chrono::milliseconds(20)));
  EXPECT_EQ(server.RequestCount("GET", "/b"), 1u);
}

}  // namespace
}  // namespace lastcall::testing
