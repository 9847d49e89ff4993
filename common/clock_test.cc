#include "common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A waiter on a FakeClock wakes when the clock reaches its deadline, not before, and never
// because real time passed.
TEST(FakeClockTest, WaitUntilEndsWhenTheClockIsAdvancedToTheDeadline) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  const MonoTime deadline = clock.Monotonic() + seconds(10);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    EXPECT_FALSE(clock.WaitUntil(lock, cv, deadline, [] { return false; }));
    done = true;
  });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  EXPECT_EQ(clock.NextDeadline(), deadline);
  clock.Advance(seconds(9));
  // The waiter woke, found 1 s left and waits again: a second wait has begun.
  ASSERT_TRUE(clock.AwaitWaiting(1, 2));
  EXPECT_FALSE(done);
  clock.Advance(seconds(1));
  waiter.join();
  EXPECT_TRUE(done);
  EXPECT_EQ(clock.WaitingCount(), 0u);
}

TEST(FakeClockTest, WaitUntilEndsWhenThePredicateHoldsAfterANotify) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool flag = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    EXPECT_TRUE(clock.WaitUntil(lock, cv, clock.Monotonic() + seconds(10), [&] { return flag; }));
  });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  {
    std::lock_guard lock(mu);
    flag = true;
  }
  cv.notify_all();
  waiter.join();
}

TEST(FakeClockTest, DeadlineInThePastDoesNotBlock) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_FALSE(clock.WaitUntil(lock, cv, clock.Monotonic(), [] { return false; }));
  clock.SleepUntil(clock.Monotonic() - seconds(1));
  EXPECT_EQ(clock.WaitsBegun(), 0u);  // neither blocked
}

TEST(FakeClockTest, SleepUntilFollowsTheClockAndSeveralSleepersWakeInOrder) {
  FakeClock clock;
  const MonoTime t0 = clock.Monotonic();
  std::atomic<int> woke{0};
  std::thread a([&] {
    clock.SleepUntil(t0 + seconds(1));
    woke += 1;
  });
  std::thread b([&] {
    clock.SleepUntil(t0 + seconds(5));
    woke += 10;
  });
  ASSERT_TRUE(clock.AwaitWaiting(2));
  EXPECT_EQ(clock.NextDeadline(), t0 + seconds(1));
  clock.Advance(seconds(1));
  a.join();
  EXPECT_EQ(woke, 1);
  ASSERT_TRUE(clock.AwaitWaiting(1));
  EXPECT_EQ(clock.NextDeadline(), t0 + seconds(5));
  clock.Advance(seconds(4));
  b.join();
  EXPECT_EQ(woke, 11);
}

TEST(FakeClockTest, AwaitWaitingGivesUpAtItsRealTimeLimit) {
  FakeClock clock;
  EXPECT_FALSE(clock.AwaitWaiting(1, 0, milliseconds(20)));
}

// The system clock waits for real: a short deadline passes, a notify ends it early.
TEST(SystemClockTest, WaitUntilEndsAtTheDeadlineOrOnTheCondition) {
  const Clock& clock = SystemClock::Instance();
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  const MonoTime start = clock.Monotonic();
  EXPECT_FALSE(clock.WaitUntil(lock, cv, start + milliseconds(30), [] { return false; }));
  EXPECT_GE(clock.Monotonic() - start, milliseconds(30));
  EXPECT_TRUE(clock.WaitUntil(lock, cv, clock.Monotonic() + seconds(30), [] { return true; }));
}

}  // namespace
}  // namespace lastcall
