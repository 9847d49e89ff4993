#include "agent/actions/worker_pool.h"

#include <algorithm>
#include <utility>

namespace lastcall {

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(std::max<size_t>(max_threads, 1)) {}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::Post(std::function<void()> task) {
  std::lock_guard lock(mu_);
  if (joined_) return false;
  queue_.push_back(std::move(task));
  StartThreadsLocked();
  cv_.notify_one();
  return true;
}

void WorkerPool::StartThreadsLocked() {
  // Idle threads take one task each; a thread is started only for work none of them will take.
  while (queue_.size() > idle_ && live_ < max_threads_) {
    ++live_;
    ++started_;
    threads_.emplace_back([this] { Loop(); });
    // Counted as idle until it runs: it will take one of the queued tasks.
    ++idle_;
  }
}

void WorkerPool::Loop() {
  std::unique_lock lock(mu_);
  --idle_;  // see StartThreadsLocked
  for (;;) {
    if (live_ > max_threads_) break;  // the bound was lowered
    if (queue_.empty()) {
      if (stopping_) break;
      ++idle_;
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_ || live_ > max_threads_; });
      --idle_;
      continue;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // its captures are released outside the lock too
    lock.lock();
  }
  --live_;
}

void WorkerPool::SetMaxThreads(size_t max_threads) {
  std::lock_guard lock(mu_);
  max_threads_ = std::max<size_t>(max_threads, 1);
  StartThreadsLocked();
  cv_.notify_all();  // surplus idle threads end
}

size_t WorkerPool::max_threads() const {
  std::lock_guard lock(mu_);
  return max_threads_;
}

void WorkerPool::Shutdown() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  // Tasks may post more while the threads drain the queue: join until none is left.
  while (!threads_.empty()) {
    std::vector<std::thread> threads = std::move(threads_);
    threads_.clear();
    lock.unlock();
    for (std::thread& t : threads) t.join();
    lock.lock();
  }
  joined_ = true;
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return live_;
}

size_t WorkerPool::threads_started() const {
  std::lock_guard lock(mu_);
  return started_;
}

}  // namespace lastcall
