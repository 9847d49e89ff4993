#include "agent/actions/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace lastcall {
namespace {

// Tasks that block until Open(); counts how many are blocked at once.
class Gate {
 public:
  void Block() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitBlocked(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return waiting_ >= n; });
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

TEST(WorkerPoolTest, PostNeverWaitsAndThreadsStayBounded) {
  Gate gate;
  std::atomic<int> ran{0};
  WorkerPool pool(3);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool.Post([&] {
      gate.Block();
      ++ran;
    }));
  }
  // 100 posts returned although every thread is blocked in a task.
  ASSERT_TRUE(gate.WaitBlocked(3));
  EXPECT_EQ(pool.threads(), 3u);
  EXPECT_EQ(pool.threads_started(), 3u);
  EXPECT_EQ(ran.load(), 0);
  gate.Open();
  pool.Shutdown();  // runs what is queued
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(pool.threads_started(), 3u);
  EXPECT_FALSE(pool.Post([] {}));
}

TEST(WorkerPoolTest, OneThreadRunsTasksInPostOrder) {
  Gate gate;
  std::vector<int> order;
  WorkerPool pool(1);
  pool.Post([&] { gate.Block(); });
  for (int i = 0; i < 10; ++i) pool.Post([&order, i] { order.push_back(i); });
  ASSERT_TRUE(gate.WaitBlocked(1));
  gate.Open();
  pool.Shutdown();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(WorkerPoolTest, NoThreadBeforeWorkAndIdleThreadsAreReused) {
  WorkerPool pool(4);
  EXPECT_EQ(pool.threads(), 0u);
  for (int i = 0; i < 20; ++i) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    pool.Post([&] {
      std::lock_guard lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done; }));
  }
  // One task at a time: an idle thread takes the next one (a post may race a thread on its
  // way back to the queue and start another, never more than the bound).
  EXPECT_LE(pool.threads_started(), 4u);
}

TEST(WorkerPoolTest, RaisingTheBoundStartsThreadsForQueuedWork) {
  Gate gate;
  WorkerPool pool(1);
  for (int i = 0; i < 4; ++i) pool.Post([&] { gate.Block(); });
  ASSERT_TRUE(gate.WaitBlocked(1));
  pool.SetMaxThreads(4);
  ASSERT_TRUE(gate.WaitBlocked(4));
  EXPECT_EQ(pool.threads(), 4u);
  pool.SetMaxThreads(2);  // surplus threads end after their task
  gate.Open();
  pool.Shutdown();
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(WorkerPoolTest, TasksMayPostTasksAndShutdownRunsThem) {
  std::atomic<int> ran{0};
  WorkerPool pool(2);
  std::function<void(int)> chain = [&](int left) {
    ++ran;
    if (left > 0) pool.Post([&chain, left] { chain(left - 1); });
  };
  pool.Post([&] { chain(50); });
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 51);
}

}  // namespace
}  // namespace lastcall
