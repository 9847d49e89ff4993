#include "agent/runtime/effective_clock.h"

#include <gtest/gtest.h>

#include "agent/base/log.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RecordingSink : public LogSink {
 public:
  void Write(LogPriority, std::string_view message, const LogFields&) override {
    lines.emplace_back(message);
  }
  std::vector<std::string> lines;
};

class EffectiveClockTest : public testing::Test {
 protected:
  void SetUp() override {
    auto s = std::make_unique<RecordingSink>();
    sink_ = s.get();
    old_ = SetLogSink(std::move(s));
  }
  void TearDown() override { SetLogSink(std::move(old_)); }
  RecordingSink* sink_ = nullptr;
  std::unique_ptr<LogSink> old_;
  FakeClock local_;
};

TEST_F(EffectiveClockTest, UsesTheLocalClockWhenTheServerAgrees) {
  EffectiveClock clock(local_, seconds(2));
  clock.Observe(local_.Now() + seconds(1));  // Date has second precision: within threshold
  EXPECT_EQ(clock.Now(), local_.Now());
  EXPECT_FALSE(clock.skew().has_value());
  clock.Observe(std::nullopt);
  EXPECT_EQ(clock.Now(), local_.Now());
  EXPECT_TRUE(sink_->lines.empty());
}

TEST_F(EffectiveClockTest, FollowsTheServerPlusMonotonicElapsedWhenSkewed) {
  EffectiveClock clock(local_, seconds(2));
  WallTime server = local_.Now() + std::chrono::hours(1);
  clock.Observe(server);
  EXPECT_EQ(clock.Now(), server);
  ASSERT_TRUE(clock.skew().has_value());
  EXPECT_EQ(*clock.skew(), std::chrono::hours(1));
  local_.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now(), server + milliseconds(1500));
  // The local wall clock stepping (NTP) does not move the effective time.
  local_.SetWall(local_.Now() - seconds(30));
  EXPECT_EQ(clock.Now(), server + milliseconds(1500));
  EXPECT_EQ(clock.Monotonic(), local_.Monotonic());
}

TEST_F(EffectiveClockTest, LogsSkewOnceWhenItStartsAndOnceWhenItStops) {
  EffectiveClock clock(local_, seconds(2));
  clock.Observe(local_.Now() - seconds(10));
  clock.Observe(local_.Now() - seconds(10));
  clock.Observe(local_.Now() - seconds(11));
  ASSERT_EQ(sink_->lines.size(), 1u);
  EXPECT_NE(sink_->lines[0].find("local clock is 10s ahead of the metadata server's"),
            std::string::npos)
      << sink_->lines[0];
  EXPECT_EQ(clock.Now(), local_.Now() - seconds(11));
  clock.Observe(local_.Now());
  clock.Observe(local_.Now());
  ASSERT_EQ(sink_->lines.size(), 2u);
  EXPECT_NE(sink_->lines[1].find("agrees"), std::string::npos);
  EXPECT_EQ(clock.Now(), local_.Now());
}

TEST_F(EffectiveClockTest, ThresholdCanChangeOnReload) {
  EffectiveClock clock(local_, seconds(2));
  clock.Observe(local_.Now() + seconds(5));
  EXPECT_TRUE(clock.skew().has_value());
  clock.SetThreshold(seconds(10));
  clock.Observe(local_.Now() + seconds(5));
  EXPECT_FALSE(clock.skew().has_value());
}

}  // namespace
}  // namespace lastcall
