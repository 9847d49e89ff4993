// The HttpClient against the loopback test server: what goes on the wire, keep-alive,
// and how every kind of failure maps to a Status.
#include <gtest/gtest.h>

#include <cstdlib>

#include "agent/providers/http_client.h"
#include "common/time_format.h"
#include "tests/support/test_http_server.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using testing::TestHttpServer;
using testing::TestResponse;

HttpRequest Get(const std::string& url, milliseconds timeout = milliseconds(2000)) {
  HttpRequest r;
  r.url = url;
  r.timeout = timeout;
  r.connect_timeout = timeout;
  return r;
}

// Sets an environment variable for the lifetime of the guard.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(HttpClientIntegrationTest, GetSendsHeadersAndCapturesResponseHeaders) {
  TestHttpServer server;
  const WallTime date = FromUnixSeconds(1'700'000'123);
  server.SetDate(date);
  server.Set("GET", "/aws/i-1/latest/meta-data/instance-id",
             TestResponse::Text("i-0abc").WithHeader("X-Extra", " v "));
  auto http = MakeHttpClient();
  HttpRequest req = Get(JoinUrl(server.url() + "/aws/i-1", "/latest/meta-data/instance-id"));
  req.headers.emplace_back("X-aws-ec2-metadata-token", "tok");
  auto r = http->Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "i-0abc");
  EXPECT_EQ(r->Header("x-extra"), "v");
  EXPECT_EQ(r->Header("Date"), FormatHttpDate(date));
  auto got = server.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].path, "/aws/i-1/latest/meta-data/instance-id");
  EXPECT_EQ(got[0].Header("X-aws-ec2-metadata-token"), "tok");
}

TEST(HttpClientIntegrationTest, PutSendsBodyAndNoFormContentType) {
  TestHttpServer server;
  server.Set("PUT", "/latest/api/token", TestResponse::Text("token"));
  auto http = MakeHttpClient();
  HttpRequest req = Get(server.url() + "/latest/api/token");
  req.method = "PUT";
  req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "60");
  auto r = http->Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "token");
  auto got = server.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].Header("X-aws-ec2-metadata-token-ttl-seconds"), "60");
  EXPECT_EQ(got[0].Header("Content-Length"), "0");
  EXPECT_EQ(got[0].Header("Content-Type"), std::nullopt);
  EXPECT_EQ(got[0].Header("Expect"), std::nullopt);
}

TEST(HttpClientIntegrationTest, OneConnectionForManyRequests) {
  TestHttpServer server;
  server.Set("GET", "/a", TestResponse::Text("a"));
  server.Set("PUT", "/t", TestResponse::Text("t"));
  auto http = MakeHttpClient();
  for (int i = 0; i < 10; ++i) {
    HttpRequest req = Get(server.url() + (i % 3 == 0 ? "/t" : "/a"));
    if (i % 3 == 0) req.method = "PUT";
    ASSERT_TRUE(http->Send(req).ok());
  }
  EXPECT_EQ(server.ConnectionsAccepted(), 1);
  // Errors answered with a status keep the connection too.
  ASSERT_EQ(http->Send(Get(server.url() + "/404")).value().status, 404);
  ASSERT_TRUE(http->Send(Get(server.url() + "/a")).ok());
  EXPECT_EQ(server.ConnectionsAccepted(), 1);
}

// The handle keeps its options between requests (they are set once, not reset per request):
// a GET after a PUT must not inherit the PUT's verb, body or headers.
TEST(HttpClientIntegrationTest, GetAfterPutOnTheSameClientIsAPlainGet) {
  TestHttpServer server;
  server.Set("GET", "/a", TestResponse::Text("a"));
  server.Set("PUT", "/t", TestResponse::Text("t"));
  auto http = MakeHttpClient();
  HttpRequest put = Get(server.url() + "/t");
  put.method = "PUT";
  put.body = "x";
  put.headers.emplace_back("X-Only-On-Put", "1");
  Result<HttpResponse> t = http->Send(put);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->status, 200);
  EXPECT_EQ(t->body, "t");
  Result<HttpResponse> a = http->Send(Get(server.url() + "/a"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "a");
  auto got = server.Requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].method, "GET");
  EXPECT_EQ(got[1].body, "");
  EXPECT_FALSE(got[1].Header("X-Only-On-Put").has_value());
}

TEST(HttpClientIntegrationTest, ReconnectsAfterTheServerClosed) {
  TestHttpServer server;
  server.Set("GET", "/close", TestResponse::Text("bye").WithClose());
  server.Set("GET", "/a", TestResponse::Text("a"));
  auto http = MakeHttpClient();
  ASSERT_TRUE(http->Send(Get(server.url() + "/close")).ok());
  auto r = http->Send(Get(server.url() + "/a"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(server.ConnectionsAccepted(), 2);
}

TEST(HttpClientIntegrationTest, HttpErrorsAreResponsesNotStatuses) {
  TestHttpServer server;
  server.Set("GET", "/err", TestResponse::Status(503, "busy"));
  auto http = MakeHttpClient();
  auto r = http->Send(Get(server.url() + "/err"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "busy");
}

TEST(HttpClientIntegrationTest, HangLongerThanTimeoutIsTimeout) {
  TestHttpServer server;
  server.Set("GET", "/slow", TestResponse::Text("late").WithDelay(std::chrono::seconds(10)));
  auto http = MakeHttpClient();
  const MonoTime start = SystemClock::Instance().Monotonic();
  auto r = http->Send(Get(server.url() + "/slow", milliseconds(200)));
  const auto took = SystemClock::Instance().Monotonic() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout) << r.status().ToString();
  EXPECT_NE(r.status().message().find("/slow"), std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(3));
  server.Stop();
}

TEST(HttpClientIntegrationTest, RefusedAndDroppedAreUnavailable) {
  std::string url;
  {
    TestHttpServer gone;
    url = gone.url();
  }
  auto http = MakeHttpClient();
  auto refused = http->Send(Get(url + "/x"));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();

  TestHttpServer server;
  server.Set("GET", "/drop", TestResponse::Drop());
  auto dropped = http->Send(Get(server.url() + "/drop"));
  EXPECT_EQ(dropped.status().code(), StatusCode::kUnavailable) << dropped.status().ToString();
}

TEST(HttpClientIntegrationTest, BodyOverTheBoundIsAnError) {
  TestHttpServer server;
  server.Set("GET", "/big", TestResponse::Text(std::string(70 * 1024, 'x')));
  server.Set("GET", "/ok", TestResponse::Text(std::string(64 * 1024, 'x')));
  auto http = MakeHttpClient();
  auto big = http->Send(Get(server.url() + "/big"));
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted) << big.status().ToString();
  auto ok = http->Send(Get(server.url() + "/ok"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body.size(), 64u * 1024);

  // The bound is the client's option.
  HttpClientOptions options;
  options.max_body_bytes = 100;
  auto small = MakeHttpClient(options);
  auto r = small->Send(Get(server.url() + "/ok"));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

TEST(HttpClientIntegrationTest, HeadersOverTheBoundAreAnError) {
  TestHttpServer server;
  server.Set("GET", "/fat", TestResponse::Text("x").WithHeader("X-Fat", std::string(20000, 'h')));
  auto http = MakeHttpClient();
  auto r = http->Send(Get(server.url() + "/fat"));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("headers"), std::string::npos);
}

TEST(HttpClientIntegrationTest, RedirectsAreNotFollowed) {
  TestHttpServer server;
  server.Set("GET", "/from", TestResponse::Status(302).WithHeader("Location", "/to"));
  server.Set("GET", "/to", TestResponse::Text("elsewhere"));
  auto http = MakeHttpClient();
  auto r = http->Send(Get(server.url() + "/from"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(server.RequestCount("GET", "/to"), 0u);
}

TEST(HttpClientIntegrationTest, ProxyEnvironmentIsIgnored) {
  TestHttpServer server;
  server.Set("GET", "/a", TestResponse::Text("direct"));
  // A proxy that refuses connections: using it would fail the request.
  EnvGuard http_proxy("http_proxy", "http://127.0.0.1:1");
  EnvGuard all_proxy("ALL_PROXY", "http://127.0.0.1:1");
  auto http = MakeHttpClient();
  auto r = http->Send(Get(server.url() + "/a"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "direct");
  EXPECT_EQ(server.Requests()[0].target, "/a");  // not an absolute-form proxy request
}

// A configured proxy is used (and only then): the request goes to it in absolute form. The
// ".invalid" host is never resolved: the proxy is asked for it.
TEST(HttpClientIntegrationTest, ConfiguredProxyIsUsed) {
  TestHttpServer proxy;
  proxy.Set("GET", "http://metadata.invalid/latest", TestResponse::Text("via proxy"));
  HttpClientOptions options;
  options.proxy = proxy.url();
  auto http = MakeHttpClient(options);
  auto r = http->Send(Get("http://metadata.invalid/latest"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = proxy.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "http://metadata.invalid/latest");
}

}  // namespace
}  // namespace lastcall
