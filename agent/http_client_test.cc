// Pure parts of the HTTP client; real exchanges are tested against a loopback server in
// tests/integration/http_client_integration_test.cc.
#include "agent/http_client.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

TEST(JoinUrlTest, PathPrefixAndSlashes) {
  EXPECT_EQ(JoinUrl("http://169.254.169.254", "/latest/api/token"),
            "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(JoinUrl("http://127.0.0.1:8080/aws/i-1", "/latest/meta-data/instance-id"),
            "http://127.0.0.1:8080/aws/i-1/latest/meta-data/instance-id");
  EXPECT_EQ(JoinUrl("http://127.0.0.1:8080/aws/i-1//", "latest"),
            "http://127.0.0.1:8080/aws/i-1/latest");
}

TEST(HttpStatusErrorTest, Mapping) {
  EXPECT_EQ(HttpStatusError(404, "GET x").code(), StatusCode::kNotFound);
  EXPECT_EQ(HttpStatusError(401, "GET x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(HttpStatusError(403, "GET x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(HttpStatusError(429, "GET x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(HttpStatusError(503, "GET x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(HttpStatusError(302, "GET x").message(), "GET x: HTTP 302");
}

TEST(TrimWhitespaceTest, Ends) {
  EXPECT_EQ(TrimWhitespace(" \t a b \r\n"), "a b");
  EXPECT_EQ(TrimWhitespace("\n\n"), "");
  EXPECT_EQ(TrimWhitespace(""), "");
}

TEST(HttpResponseTest, HeaderLookupIgnoresCase) {
  HttpResponse r{
      200, "", {{"Date", "x"}, {"date", "y"}, {"X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "5"}}};
  EXPECT_EQ(r.Header("DATE"), "x");
  EXPECT_EQ(r.Header("x-aws-ec2-metadata-token-ttl-seconds"), "5");
  EXPECT_EQ(r.Header("ETag"), std::nullopt);
}

TEST(HttpClientTest, RejectsWhatItMustNotSend) {
  auto http = MakeHttpClient();
  HttpRequest bad_method;
  bad_method.method = "DELETE";
  bad_method.url = "http://127.0.0.1:1/";
  EXPECT_EQ(http->Send(bad_method).status().code(), StatusCode::kInvalidArgument);
  HttpRequest no_timeout;
  no_timeout.url = "http://127.0.0.1:1/";
  no_timeout.timeout = Duration::zero();
  auto t = http->Send(no_timeout);
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("timeouts must be positive"), std::string::npos);
  HttpRequest bad_scheme;
  bad_scheme.url = "file:///etc/passwd";
  auto r = http->Send(bad_scheme);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("file:///etc/passwd"), std::string::npos);
}

TEST(ParseHttpUrlTest, SplitsHostPortAndTarget) {
  auto u = ParseHttpUrl("http://169.254.169.254/latest/api/token");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "169.254.169.254");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/latest/api/token");
  EXPECT_EQ(u->host_header, "169.254.169.254");

  u = ParseHttpUrl("HTTP://[fd00:ec2::254]:8080/aws/i-1/x?y=1#frag");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "fd00:ec2::254");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/aws/i-1/x?y=1");
  EXPECT_EQ(u->host_header, "[fd00:ec2::254]:8080");

  u = ParseHttpUrl("http://metadata.local:81");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->host_header, "metadata.local:81");
  u = ParseHttpUrl("http://h?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/?q");
}

TEST(ParseHttpUrlTest, RejectsWithAReason) {
  struct Case {
    const char* url;
    const char* reason;
  };
  for (const Case& c : {
           Case{"https://169.254.169.254/", "https is not supported"},
           Case{"ftp://h/", "only absolute http:// URLs"},
           Case{"/latest", "only absolute http:// URLs"},
           Case{"http://user:pw@h/", "user info"},
           Case{"http:///x", "no host"},
           Case{"http://h:0/", "bad port \"0\""},
           Case{"http://h:65536/", "bad port"},
           Case{"http://h:8x/", "bad port"},
           Case{"http://[::1/", "unterminated IPv6 literal"},
           Case{"http://[::1]x/", "after the IPv6 literal"},
           Case{"http://[nope]/", "bad IPv6 literal"},
           Case{"http://::1/", "IPv6 literals go in brackets"},
           Case{"http://h/a b", "space"},
           Case{"http://h/a\r\nX: y", "control"},
       }) {
    auto u = ParseHttpUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(u.status().message().find(c.reason), std::string::npos) << u.status().message();
    EXPECT_NE(u.status().message().find("bad URL"), std::string::npos) << u.status().message();
  }
}

TEST(HttpClientTest, HttpsIsRefusedWithoutConnecting) {
  auto http = MakeHttpClient();
  HttpRequest req;
  req.url = "https://127.0.0.1:1/latest";
  auto r = http->Send(req);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "GET https://127.0.0.1:1/latest: https is not supported: metadata services are plain "
            "HTTP on a link-local address, use http://");
}

}  // namespace
}  // namespace lastcall
