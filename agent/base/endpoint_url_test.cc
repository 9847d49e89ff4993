#include "agent/base/endpoint_url.h"

#include <gtest/gtest.h>

#include <string>

namespace lastcall {
namespace {

TEST(EndpointUrlTest, AcceptsWhatTheDaemonCanUse) {
  auto u = ParseEndpointUrl("http://169.254.169.254");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "169.254.169.254");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "");
  auto v6 = ParseEndpointUrl("http://[fd00:ec2::254]:8080/prefix/");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->host, "fd00:ec2::254");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->path, "/prefix/");
  EXPECT_EQ(ParseEndpointUrl("https://metadata.internal:443/a%20b")->port, 443);
  EXPECT_TRUE(ParseEndpointUrl("http://localhost:1").ok());
  EXPECT_TRUE(ParseEndpointUrl("http://127.0.0.1:65535/").ok());
}

// Regression (issue 11, item 7): --check-config said "ok" for each of these.
TEST(EndpointUrlTest, RefusesSpacesBadPortsUserInfoAndOpenBrackets) {
  for (const char* bad : {"http://h:p /x", "http://h:99999", "http://h:0",
                          "http://h:",     "http://user@h",  "http://user:pw@h:80",
                          "http://[::1",   "http://[::1]x",  "http://[not-v6]:80",
                          "http://",       "http:///x",      "ftp://h",
                          "HTTP//h",       "http://h/x?y=1", "http://h/#f",
                          "http://h\n/x",  "http://h\x01",   "http://h\xc3\xa9",
                          "http://-h",     "http://h..x",    "http://h/%zz",
                          "http://h/a b"}) {
    auto u = ParseEndpointUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.status().message().find('\n'), std::string::npos) << u.status().message();
  }
}

TEST(ListenAddressTest, OnlyLoopbackHostPort) {
  EXPECT_EQ(ParseLoopbackListenAddress("127.0.0.1:9877")->port, 9877);
  EXPECT_EQ(ParseLoopbackListenAddress("[::1]:9877")->host, "::1");
  EXPECT_TRUE(ParseLoopbackListenAddress("localhost:9877").ok());
  EXPECT_TRUE(ParseLoopbackListenAddress("127.1.2.3:1").ok());
  // Regression (issue 11, item 7): a name that merely starts with "127." was loopback.
  for (const char* bad :
       {"127.0.0.1.evil.com:9877", "127.evil:9877", "0.0.0.0:9877", "10.0.0.1:9877", "127.0.0.1:0",
        "127.0.0.1:65536", "127.0.0.1", ":9877", "[::2]:9877", "127.0.0.1:98x7"}) {
    EXPECT_FALSE(ParseLoopbackListenAddress(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace lastcall
