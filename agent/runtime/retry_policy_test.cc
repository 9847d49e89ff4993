#include "agent/runtime/retry_policy.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryPolicy, GrowsByTheMultiplierUpToTheMax) {
  RetryPolicy p{seconds(2), seconds(30), 2.0, 0.0};
  auto none = [] { return 0.5; };
  EXPECT_EQ(p.Delay(1, none), seconds(2));
  EXPECT_EQ(p.Delay(2, none), seconds(4));
  EXPECT_EQ(p.Delay(3, none), seconds(8));
  EXPECT_EQ(p.Delay(4, none), seconds(16));
  EXPECT_EQ(p.Delay(5, none), seconds(30));
  EXPECT_EQ(p.Delay(1000000, none), seconds(30));  // no overflow for long outages
}

TEST(RetryPolicy, JitterOnlyShortensTheDelayUsingTheInjectedRandom) {
  RetryPolicy p{seconds(10), seconds(10), 1.0, 0.1};
  EXPECT_EQ(p.Delay(1, [] { return 0.0; }), seconds(10));
  EXPECT_EQ(p.Delay(1, [] { return 0.5; }), milliseconds(9500));
  EXPECT_EQ(p.Delay(1, [] { return 0.999999; }), seconds(9));
  // Out-of-range randoms are clamped: never longer than the delay, never shorter than the spread.
  EXPECT_EQ(p.Delay(1, [] { return -5.0; }), seconds(10));
  EXPECT_EQ(p.Delay(1, [] { return 7.0; }), seconds(9));
}

TEST(RetryPolicy, NeverZero) {
  RetryPolicy p{milliseconds(0), milliseconds(0), 2.0, 0.5};
  EXPECT_EQ(p.Delay(3, [] { return 0.0; }), milliseconds(1));
}

TEST(FailureEpisode, LogsOnceWhenItStartsAndOnceWhenItEnds) {
  FailureEpisode e;
  MonoTime t0{std::chrono::hours(1)};
  EXPECT_FALSE(e.Succeed(t0).has_value());  // nothing to recover from
  EXPECT_TRUE(e.Fail(t0, "connection refused"));
  EXPECT_FALSE(e.Fail(t0 + seconds(2), "connection refused"));
  EXPECT_FALSE(e.Fail(t0 + seconds(4), "HTTP 500"));
  EXPECT_TRUE(e.failing());
  EXPECT_EQ(e.failures(), 3);
  std::optional<std::string> rec = e.Succeed(t0 + seconds(14));
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(*rec, "after 3 failures in 14s; first error: connection refused");
  EXPECT_FALSE(e.failing());
  EXPECT_FALSE(e.Succeed(t0 + seconds(16)).has_value());
  // A new outage is logged again, with its own reason.
  EXPECT_TRUE(e.Fail(t0 + seconds(20), "timeout"));
  EXPECT_EQ(e.first_reason(), "timeout");
  EXPECT_EQ(*e.Succeed(t0 + seconds(21)), "after 1 failure in 1s; first error: timeout");
}

}  // namespace
}  // namespace lastcall
