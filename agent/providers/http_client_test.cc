// Pure parts of the HTTP client; real exchanges are tested against a loopback server in
// tests/integration/http_client_integration_test.cc.
#include "agent/providers/http_client.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "agent/providers/cloud_detect.h"

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

// Refused before any socket is opened (port 1 would refuse a connection anyway, so the reason
// in the message is what shows that the URL itself was refused).
TEST(HttpClientTest, BadUrlsAreRefusedWithAReason) {
  struct Case {
    const char* url;
    const char* reason;
  };
  auto http = MakeHttpClient();
  for (const Case& c : {
           Case{"ftp://127.0.0.1:1/", "only http:// and https://"},
           Case{"file:///etc/passwd", "only http:// and https://"},
           Case{"/latest", "bad URL"},
           Case{"http://", "bad URL"},
           Case{"http://127.0.0.1:65536/", "bad URL"},
           Case{"http://127.0.0.1:8x/", "bad URL"},
           Case{"http://[::1/", "bad URL"},
           Case{"http://127.0.0.1:1/a b", "space or a control character"},
           Case{"http://127.0.0.1:1/a\r\nX: y", "space or a control character"},
       }) {
    HttpRequest req;
    req.url = c.url;
    auto r = http->Send(req);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos) << r.status().message();
    EXPECT_TRUE(r.status().message().starts_with("GET " + std::string(c.url) + ": "))
        << r.status().message();
  }
}

// The request deadline covers name resolution only with libcurl's threaded (or c-ares)
// resolver; with the blocking one a slow DNS server would hold a poll past its timeout. Debian's
// libcurl4 is built with the threaded resolver: this fails if the build ever changes.
TEST(HttpClientTest, LibcurlResolvesNamesAsynchronously) {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  ASSERT_NE(info, nullptr);
  EXPECT_NE(info->features & CURL_VERSION_ASYNCHDNS, 0) << "libcurl " << info->version;
}

// lastcalld without an https endpoint sets OpenSSL up for plain http only (about 1.2 MiB less
// resident, bench/RESULTS.md); an https URL is then refused with a reason, by the client and
// by MakeProvider (so that a reload to https is refused as a whole), never sent with OpenSSL's
// built-in defaults in place of openssl.cnf. In a fresh process: the first init of a process
// wins, and the death-test child re-executes the test binary for this test alone.
TEST(HttpTransportTest, PlainHttpOnlyRefusesHttpsUntilARestart) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        InitHttpTransport(TlsSetup::kPlainHttpOnly);
        InitHttpTransport(TlsSetup::kFull);  // the first call wins
        if (HttpsAvailable()) {
          std::cerr << "https still available\n";
          std::exit(1);
        }
        HttpRequest request;
        request.url = "https://127.0.0.1:1/latest/api/token";
        Result<HttpResponse> r = MakeHttpClient()->Send(request);
        if (r.ok() || r.status().code() != StatusCode::kFailedPrecondition) std::exit(2);
        std::cerr << "client: " << r.status().message() << "\n";
        Config config;
        config.path = "t.toml";
        config.provider = ProviderChoice::kAws;
        config.aws.endpoint = "https://127.0.0.1:1";
        Result<std::unique_ptr<Provider>> p = MakeProvider(config, SystemClock::Instance());
        if (p.ok() || p.status().code() != StatusCode::kFailedPrecondition) std::exit(3);
        std::cerr << "provider: " << p.status().message() << "\n";
        std::exit(0);
      },
      testing::ExitedWithCode(0),
      "client: GET https://127.0.0.1:1/latest/api/token: https:// endpoints need a restart of "
      "lastcalld[^\n]*\nprovider: t.toml: https:// endpoints need a restart");
}

}  // namespace
}  // namespace lastcall
