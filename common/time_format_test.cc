#include "common/time_format.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

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

// Regression (issue 11, item 3): a termination time in 2300 wrapped around to 1715 (checkpoint
// and drain skipped). Every parser accepts the years 1678-2261 and refuses the rest with
// kOutOfRange and a message naming the year, before any arithmetic.
TEST(TimeRange, YearsOutsideTheRepresentableRangeAreRefusedNotWrapped) {
  for (const char* text : {"1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "2300-01-01T00:00:00Z",
                           "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"}) {
    auto t = ParseRfc3339(text);
    ASSERT_FALSE(t.ok()) << text << " parsed as " << FormatRfc3339(*t);
    EXPECT_EQ(t.status().code(), StatusCode::kOutOfRange) << t.status().ToString();
    EXPECT_NE(t.status().message().find("1678-2261"), std::string::npos) << t.status().message();
  }
  auto y2300 = ParseRfc3339("2300-01-01T00:00:00Z");
  EXPECT_NE(y2300.status().message().find("year 2300"), std::string::npos);
  EXPECT_EQ(ParseAwsEventTime("1 Jan 2300 00:00:00 GMT").status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseAwsEventTime("31 Dec 1677 00:00:00 GMT").status().code(), StatusCode::kOutOfRange);
  // Regression: a Date header in 2300 made every notice look past.
  EXPECT_EQ(ParseHttpDate("Mon, 01 Jan 2300 00:00:00 GMT").status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(ParseHttpDate("Sat, 01 Jan 2262 00:00:00 GMT").status().code(),
            StatusCode::kOutOfRange);
  // The ends of the range itself parse and format back.
  for (const char* text : {"1678-01-01T00:00:00Z", "2261-12-31T23:59:59Z"}) {
    auto t = ParseRfc3339(text);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(FormatRfc3339(*t), text);
  }
  EXPECT_EQ(*ParseRfc3339("1678-01-01T00:00:00Z"), kMinWallTime);
  EXPECT_EQ(*ParseRfc3339("2261-12-31T23:59:59Z"), kMaxWallTime);
}

TEST(TimeRange, UnixMillisOutsideTheRangeAreRefused) {
  EXPECT_EQ(*FromUnixMillis(1'505'722'920'000), WallTime(seconds(1'505'722'920)));
  EXPECT_EQ(*FromUnixMillis(ToUnixMillis(kMaxWallTime)), kMaxWallTime);
  EXPECT_EQ(*FromUnixMillis(ToUnixMillis(kMinWallTime)), kMinWallTime);
  for (long long ms :
       {ToUnixMillis(kMaxWallTime) + 1, ToUnixMillis(kMinWallTime) - 1, 9'300'000'000'000LL,
        -9'300'000'000'000LL, std::numeric_limits<long long>::max(),
        std::numeric_limits<long long>::min()}) {
    auto t = FromUnixMillis(ms);
    EXPECT_FALSE(t.ok()) << ms;
    EXPECT_EQ(t.status().code(), StatusCode::kOutOfRange);
  }
}

// Regression (issue 11, item 7): a crafted sum of large terms overflowed and printed as "2s".
TEST(Duration, SumsBeyondTheLimitAreRefusedNotWrapped) {
  std::string crafted;
  for (int i = 0; i < 120; ++i) crafted += "1000000000d";
  crafted += "2s";
  auto d = ParseDuration(crafted);
  ASSERT_FALSE(d.ok()) << FormatDuration(*d);
  EXPECT_NE(d.status().message().find("longer than the longest allowed"), std::string::npos);
  EXPECT_FALSE(ParseDuration("36501d").ok());
  EXPECT_EQ(*ParseDuration("36500d"), kMaxDuration);
}

TEST(TimeFormat, MessagesQuoteAndEscapeTheInput) {
  auto t = ParseRfc3339("garbage\n<0>FORGED\xff");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("got \"garbage\\n<0>FORGED\\xff\""), std::string::npos)
      << t.status().message();
  EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
}

// Property (issue 11): every Format* output of a time in range parses back to the same time,
// to the second, across the whole range (random instants plus both ends).
TEST(TimeFormat, EveryFormatOutputParsesBackToTheSameValue) {
  std::mt19937_64 rng(20261202);
  const long long lo = ToUnixSeconds(kMinWallTime), hi = ToUnixSeconds(kMaxWallTime);
  std::uniform_int_distribution<long long> pick(lo, hi);
  std::vector<WallTime> times = {kMinWallTime, kMaxWallTime, WallTime(seconds(0)),
                                 WallTime(seconds(-1))};
  for (int i = 0; i < 20000; ++i) times.push_back(FromUnixSeconds(pick(rng)));
  for (WallTime t : times) {
    auto a = ParseRfc3339(FormatRfc3339(t));
    ASSERT_TRUE(a.ok()) << FormatRfc3339(t) << ": " << a.status().ToString();
    EXPECT_EQ(*a, t) << FormatRfc3339(t);
    auto b = ParseAwsEventTime(FormatAwsEventTime(t));
    ASSERT_TRUE(b.ok()) << FormatAwsEventTime(t) << ": " << b.status().ToString();
    EXPECT_EQ(*b, t) << FormatAwsEventTime(t);
    auto c = ParseHttpDate(FormatHttpDate(t));
    ASSERT_TRUE(c.ok()) << FormatHttpDate(t) << ": " << c.status().ToString();
    EXPECT_EQ(*c, t) << FormatHttpDate(t);
    EXPECT_EQ(*FromUnixMillis(ToUnixMillis(t)), t);
  }
  std::uniform_int_distribution<long long> ms(0, kMaxDuration.count());
  for (int i = 0; i < 20000; ++i) {
    Duration d(i < 100 ? i : ms(rng));
    auto back = ParseDuration(FormatDuration(d));
    ASSERT_TRUE(back.ok()) << FormatDuration(d) << ": " << back.status().ToString();
    EXPECT_EQ(*back, d) << FormatDuration(d);
  }
}

}  // namespace
}  // namespace lastcall
