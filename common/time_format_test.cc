#include "common/time_format.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Rfc3339, RoundTripsAwsInstanceActionTime) {
  auto t = ParseRfc3339("2017-09-18T08:22:00Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(ToUnixSeconds(*t), 1505722920);
  EXPECT_EQ(FormatRfc3339(*t), "2017-09-18T08:22:00Z");
}

// FormatRfc3339 writes its digits itself: every field width, zeros, the ends of WallTime's range
// (nanoseconds: 1677..2262), and a sweep of odd seconds across leap years all round-trip.
TEST(Rfc3339, FormatsEveryFieldWithItsWidth) {
  for (const char* text : {"1700-01-01T00:00:00Z", "1901-02-03T04:05:06Z", "1970-01-01T00:00:00Z",
                           "2024-02-29T23:59:59Z", "2200-12-31T23:59:59Z"}) {
    auto t = ParseRfc3339(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status().ToString();
    EXPECT_EQ(FormatRfc3339(*t), text);
  }
  auto start = ParseRfc3339("2019-12-31T23:59:58Z");
  ASSERT_TRUE(start.ok());
  for (WallTime t = *start; t < *start + hours(24 * 800); t += seconds(86413)) {
    auto back = ParseRfc3339(FormatRfc3339(t));
    ASSERT_TRUE(back.ok()) << FormatRfc3339(t);
    EXPECT_EQ(*back, t);
  }
}

TEST(Rfc3339, AcceptsOffsetsAndFractions) {
  auto utc = ParseRfc3339("2020-04-07T17:03:00Z");
  auto offset = ParseRfc3339("2020-04-07T19:03:00+02:00");
  auto frac = ParseRfc3339("2020-04-07T17:03:00.250Z");
  ASSERT_TRUE(utc.ok() && offset.ok() && frac.ok());
  EXPECT_EQ(*utc, *offset);
  EXPECT_EQ(*frac - *utc, milliseconds(250));
}

TEST(Rfc3339, RejectsGarbageWithTheInputInTheMessage) {
  for (const char* bad : {"", "2017-09-18", "2017-09-18T08:22:00", "2017-13-18T08:22:00Z",
                          "2017-02-30T08:22:00Z", "2017-09-18T08:22:00Zjunk", "{\"a\":1}"}) {
    auto t = ParseRfc3339(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("RFC 3339"), std::string::npos);
  }
}

TEST(AwsEventTime, DayIsNotZeroPadded) {
  auto t = ParseRfc3339("2019-01-02T09:00:43Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatAwsEventTime(*t), "2 Jan 2019 09:00:43 GMT");
  auto back = ParseAwsEventTime("2 Jan 2019 09:00:43 GMT");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *t);
  auto padded = ParseAwsEventTime("02 Jan 2019 09:00:43 GMT");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, *t);
  EXPECT_FALSE(ParseAwsEventTime("2 Foo 2019 09:00:43 GMT").ok());
  EXPECT_FALSE(ParseAwsEventTime("2 Jan 2019 09:00:43").ok());
}

TEST(HttpDate, RoundTrips) {
  auto t = ParseRfc3339("2026-04-07T22:26:58Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatHttpDate(*t), "Tue, 07 Apr 2026 22:26:58 GMT");
  auto back = ParseHttpDate("Tue, 07 Apr 2026 22:26:58 GMT");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *t);
  EXPECT_FALSE(ParseHttpDate("Tue, 07 Apr 2026 22:26:58").ok());
}

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*ParseDuration("100ms"), milliseconds(100));
  EXPECT_EQ(*ParseDuration("2s"), seconds(2));
  EXPECT_EQ(*ParseDuration("5m"), minutes(5));
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("0s"), milliseconds(0));
  for (const char* bad : {"", "2", "s", "2x", "-1s", "1.5s", "2 s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(Duration, FormatsShortestExactForm) {
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(milliseconds(2500)), "2s500ms");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(hours(6)), "6h");
}

}  // namespace
}  // namespace lastcall
