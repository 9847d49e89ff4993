#include "agent/runtime/metrics_exporter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/files.h"

namespace lastcall {
namespace {

using std::chrono::seconds;

using testing::ReadFile;

// Sends `request` to 127.0.0.1:port and reads until the server closes (bounded).
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(HandleMetricsRequest, ServesOnlyGetMetrics) {
  Metrics m;
  m.DeclareCounter("lastcall_polls_total", "Metadata polls tried.");
  m.Increment("lastcall_polls_total", {}, 3);
  std::string ok = HandleMetricsRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", m);
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(ok.find("\r\n\r\n# HELP lastcall_polls_total"), std::string::npos);
  EXPECT_NE(ok.find("lastcall_polls_total 3\n"), std::string::npos);
  std::string head = HandleMetricsRequest("HEAD /metrics HTTP/1.0\r\n\r\n", m);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_EQ(head.find("lastcall_polls_total 3"), std::string::npos);
  EXPECT_EQ(HandleMetricsRequest("GET /metrics?x=1 HTTP/1.1\r\n\r\n", m).rfind("HTTP/1.1 200", 0),
            0u);
  EXPECT_EQ(HandleMetricsRequest("GET / HTTP/1.1\r\n\r\n", m).rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(HandleMetricsRequest("POST /metrics HTTP/1.1\r\n\r\n", m).rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(HandleMetricsRequest("garbage\r\n\r\n", m).rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(HandleMetricsRequest("GET /metrics SPDY\r\n\r\n", m).rfind("HTTP/1.1 400", 0), 0u);
}

TEST(MetricsServer, ServesMetricsOnLoopbackPortZero) {
  Metrics m;
  m.Increment("lastcall_polls_total", {}, 7);
  auto server = MetricsServer::Start(m, "127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  std::string r = Exchange(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u) << r;
  EXPECT_NE(r.find("lastcall_polls_total 7\n"), std::string::npos);
  // Live values, not a snapshot from start.
  m.Increment("lastcall_polls_total");
  r = Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(r.find("lastcall_polls_total 8\n"), std::string::npos);
  EXPECT_EQ(Exchange(port, "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(MetricsServer, BoundsTheRequestHead) {
  Metrics m;
  auto server = MetricsServer::Start(m, "127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  std::string big = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(20000, 'a') + "\r\n\r\n";
  std::string r = Exchange((*server)->port(), big);
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r.substr(0, 80);
}

TEST(MetricsServer, RefusesNonLoopbackAndBadAddresses) {
  Metrics m;
  auto s = MetricsServer::Start(m, "0.0.0.0:0");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("non-loopback"), std::string::npos);
  EXPECT_FALSE(MetricsServer::Start(m, "nohost").ok());
  EXPECT_FALSE(MetricsServer::Start(m, "example.com:80").ok());
  EXPECT_FALSE(MetricsServer::Start(m, "127.0.0.1:http").ok());
}

TEST(MetricsServer, PortInUseIsAClearError) {
  Metrics m;
  auto first = MetricsServer::Start(m, "127.0.0.1:0");
  ASSERT_TRUE(first.ok());
  std::string listen = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = MetricsServer::Start(m, listen);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("cannot listen on " + listen), std::string::npos);
}

TEST(MetricsExporter, WritesTheTextfileOnItsIntervalAndOnDemand) {
  Metrics m;
  FakeClock clock;
  MetricsExporter e(m, clock);
  EXPECT_EQ(e.NextWrite(), MonoTime::max());  // no textfile: nothing to do
  const testing::TempDir dir;
  const std::string path = dir / "lastcall-test.prom";
  MetricsOptions o;
  o.textfile = path;
  o.write_interval = seconds(15);
  ASSERT_TRUE(e.Configure(o).ok());
  m.Increment("lastcall_polls_total");
  e.MaybeWrite();  // due at once
  EXPECT_NE(ReadFile(path).find("lastcall_polls_total 1\n"), std::string::npos);
  m.Increment("lastcall_polls_total");
  clock.Advance(seconds(14));
  e.MaybeWrite();
  EXPECT_NE(ReadFile(path).find("lastcall_polls_total 1\n"), std::string::npos);
  clock.Advance(seconds(1));
  EXPECT_EQ(e.NextWrite(), clock.Monotonic());
  e.MaybeWrite();
  EXPECT_NE(ReadFile(path).find("lastcall_polls_total 2\n"), std::string::npos);
  m.Increment("lastcall_polls_total");
  ASSERT_TRUE(e.WriteNow().ok());  // at exit
  EXPECT_NE(ReadFile(path).find("lastcall_polls_total 3\n"), std::string::npos);
}

TEST(MetricsExporter, StartsAndStopsTheListenerOnReconfigure) {
  Metrics m;
  FakeClock clock;
  MetricsExporter e(m, clock);
  MetricsOptions o;
  o.listen = "127.0.0.1:0";
  ASSERT_TRUE(e.Configure(o).ok());
  uint16_t port = e.http_port();
  ASSERT_NE(port, 0);
  EXPECT_EQ(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  ASSERT_TRUE(e.Configure(o).ok());  // unchanged: same listener
  EXPECT_EQ(e.http_port(), port);
  o.listen.clear();
  ASSERT_TRUE(e.Configure(o).ok());
  EXPECT_EQ(e.http_port(), 0);
  EXPECT_EQ(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n"), "connect failed");
}

}  // namespace
}  // namespace lastcall
