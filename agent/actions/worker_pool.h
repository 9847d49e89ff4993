// WorkerPool: a bounded set of threads that run queued tasks in the order they were posted.
//
// Post() queues a task and returns at once: it never waits for a thread or for other work, so
// the poll loop can hand off the work of hundreds of notices at the cost of a queue push each
// (issue 11: one thread per notice made the poll that saw 400 notices take over a second).
// At most max_threads() threads exist; they are started when queued work finds no idle thread,
// and stay until Shutdown. Lowering the bound ends surplus threads after their current task.
//
// Tasks may block for long (a hook runs for minutes), so a task must never wait for a task that
// is still queued: with every thread taken by waiters nothing would run it. The notice handler's
// tasks wait only for work that is already running (a hook slot, a leftover process) and park
// themselves instead of waiting for a phase another notice runs (see notice_handler_impl.h).
//
// Thread-safety: every method may be called from any thread, Post also from a task. Shutdown
// must not be called from a task (it joins the threads).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lastcall {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. False (and the task dropped) once Shutdown has finished.
  bool Post(std::function<void()> task);
  // At least 1. Raising it starts threads for work already queued.
  void SetMaxThreads(size_t max_threads);
  size_t max_threads() const;

  // Runs everything queued (tasks posted meanwhile too), then joins every thread.
  void Shutdown();

  // For tests and benchmarks: threads alive now, and started over the pool's life.
  size_t threads() const;
  size_t threads_started() const;

 private:
  void StartThreadsLocked();
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t max_threads_;
  size_t live_ = 0;
  size_t idle_ = 0;
  size_t started_ = 0;
  bool stopping_ = false;
  bool joined_ = false;
};

}  // namespace lastcall
