#include "mockmeta/core/virtual_clock.h"

#include <gtest/gtest.h>

namespace lastcall::mock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kStart = WallTime(seconds(1'775'520'000));

TEST(VirtualClockTest, RealtimeFollowsHostMonotonic) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  EXPECT_EQ(clock.mode(), ClockMode::kRealtime);
  EXPECT_EQ(clock.Now(), kStart);
  host.Advance(seconds(10));
  EXPECT_EQ(clock.Now(), kStart + seconds(10));
}

TEST(VirtualClockTest, IgnoresHostWallClockSteps) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  host.SetWall(WallTime(seconds(5)));  // NTP step on the host
  EXPECT_EQ(clock.Now(), kStart);
}

TEST(VirtualClockTest, AcceleratedRunsFaster) {
  FakeClock host;
  VirtualClock clock(host, kStart, {ClockMode::kAccelerated, 60});
  host.Advance(seconds(10));
  EXPECT_EQ(clock.Now(), kStart + minutes(10));
}

TEST(VirtualClockTest, SpeedChangeDoesNotJump) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  host.Advance(seconds(10));
  ASSERT_TRUE(clock.SetSpeed(100).ok());
  EXPECT_EQ(clock.Now(), kStart + seconds(10));
  host.Advance(seconds(1));
  EXPECT_EQ(clock.Now(), kStart + seconds(110));
  EXPECT_EQ(clock.mode(), ClockMode::kAccelerated);
}

TEST(VirtualClockTest, ManualStandsStillUntilAdvanced) {
  FakeClock host;
  VirtualClock clock(host, kStart, {ClockMode::kManual, 0});
  host.Advance(hours(1));
  EXPECT_EQ(clock.Now(), kStart);
  ASSERT_TRUE(clock.Advance(minutes(5)).ok());
  EXPECT_EQ(clock.Now(), kStart + minutes(5));
  ASSERT_TRUE(clock.SetTo(kStart + hours(2)).ok());
  EXPECT_EQ(clock.Now(), kStart + hours(2));
}

TEST(VirtualClockTest, ManualThenRealtimeResumesFromVirtualNow) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  host.Advance(seconds(3));
  clock.SetManual();
  host.Advance(seconds(100));
  EXPECT_EQ(clock.Now(), kStart + seconds(3));
  ASSERT_TRUE(clock.SetSpeed(1).ok());
  host.Advance(seconds(2));
  EXPECT_EQ(clock.Now(), kStart + seconds(5));
}

TEST(VirtualClockTest, RefusesBackwardsAndBadSpeeds) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  EXPECT_FALSE(clock.SetTo(kStart - seconds(1)).ok());
  EXPECT_FALSE(clock.Advance(Duration(-1)).ok());
  EXPECT_FALSE(clock.SetSpeed(0).ok());
  EXPECT_FALSE(clock.SetSpeed(-2).ok());
  EXPECT_FALSE(clock.SetSpeed(2e6).ok());
  EXPECT_EQ(clock.mode(), ClockMode::kRealtime);  // unchanged after the refusals
  EXPECT_EQ(clock.Now(), kStart);
}

// 5e-324 is greater than 0 but makes every elapsed time round to nothing.
TEST(VirtualClockTest, ADenormalSpeedIsRefused) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  EXPECT_FALSE(clock.SetSpeed(5e-324).ok());
  EXPECT_NE(clock.SetSpeed(1e-4).message().find("0.001"), std::string::npos);
  EXPECT_TRUE(clock.SetSpeed(VirtualClock::kMinSpeed).ok());
  EXPECT_FALSE(ParseClockSpec("speed=5e-324").ok());
}

// Times are 64-bit nanoseconds: the year 2610 used to wrap around to 2026.
TEST(VirtualClockTest, TimesPastTheYear2261AreRefusedNotWrapped) {
  FakeClock host;
  VirtualClock clock(host, kStart);
  Status s = clock.SetTo(LatestVirtualTime() + seconds(1));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("2261-12-31T23:59:59Z"), std::string::npos) << s.message();
  EXPECT_FALSE(clock.Advance(hours(24 * 365 * 300)).ok());
  EXPECT_EQ(clock.Now(), kStart);
  EXPECT_TRUE(clock.SetTo(LatestVirtualTime()).ok());
  EXPECT_FALSE(clock.Advance(seconds(1)).ok());

  Result<WallTime> t = ParseVirtualTime("2610-01-01T00:00:00Z");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("1678..2261"), std::string::npos) << t.status().message();
  EXPECT_FALSE(ParseVirtualTime("1600-01-01T00:00:00Z").ok());
  EXPECT_TRUE(ParseVirtualTime("2261-12-31T23:59:59Z").ok());
  EXPECT_TRUE(ParseVirtualTime("2026-04-07T00:00:00Z").ok());
}

// At a high speed for long enough the virtual time stops at the last representable second.
TEST(VirtualClockTest, AHighSpeedStopsAtTheLastRepresentableTime) {
  FakeClock host;
  VirtualClock clock(host, kStart, ClockSpec{ClockMode::kAccelerated, VirtualClock::kMaxSpeed});
  host.Advance(hours(24 * 365 * 10));  // a million times ten years
  EXPECT_EQ(clock.Now(), LatestVirtualTime());
}

TEST(VirtualClockTest, ParsesClockSpec) {
  EXPECT_EQ(ParseClockSpec("realtime")->mode, ClockMode::kRealtime);
  EXPECT_EQ(ParseClockSpec("manual")->mode, ClockMode::kManual);
  auto s = ParseClockSpec("speed=120");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->mode, ClockMode::kAccelerated);
  EXPECT_EQ(s->speed, 120);
  for (const char* bad : {"speed=", "speed=0", "speed=abc", "speed=-1", "fast", "speed=1e9"}) {
    auto r = ParseClockSpec(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace lastcall::mock
