// Helpers shared by the agent's tests that are about the agent: a log sink that captures
// records, a guard for the processes hooks leave behind, and a hook runner stand-in that blocks
// until released. Test-only code. Files, temporary directories, child processes and waiting are
// tests/support's (files.h, process.h, wait.h).
//
// Thread-safety: CapturingSink and BlockingHookRunner are safe from any thread (hooks run and
// log on the handler's threads).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/actions/hook_runner.h"
#include "agent/base/log.h"
#include "common/clock.h"

namespace lastcall::testing {

// Kills, at scope end, every still-alive process whose pid a hook wrote to one of the
// registered files: a failing test must not leave its hooks' processes behind.
class PidFileGuard {
 public:
  PidFileGuard() = default;
  PidFileGuard(const PidFileGuard&) = delete;
  PidFileGuard& operator=(const PidFileGuard&) = delete;
  ~PidFileGuard();
  std::string Watch(const std::string& pid_file);  // returns pid_file

 private:
  std::vector<std::string> files_;
};

// Threads of this process now (/proc/self/status).
int ThreadsInProcess();

// Stands in for HookRunner::Run (NoticeHandlerImpl::Options::run_hook) without a process: each
// call is a running hook until Release(); then it and every later call end "ok" at once. A
// call still blocked after `give_up` ends as timed out and counts in gave_up(), so a test that
// waits for the wrong thing fails instead of hanging.
class BlockingHookRunner {
 public:
  explicit BlockingHookRunner(Duration give_up = std::chrono::seconds(30)) : give_up_(give_up) {}
  ~BlockingHookRunner() { Release(); }
  BlockingHookRunner(const BlockingHookRunner&) = delete;
  BlockingHookRunner& operator=(const BlockingHookRunner&) = delete;

  // For Options::run_hook; this object must outlive the handler.
  std::function<HookRun(const HookRunRequest&)> AsRunHook() {
    return [this](const HookRunRequest& r) { return Run(r); };
  }
  HookRun Run(const HookRunRequest& request);
  void Release();
  // Waits until `n` calls are blocked at once; false after `timeout`.
  bool WaitRunning(size_t n, Duration timeout = std::chrono::seconds(20));

  size_t running() const;
  size_t peak() const;      // most calls blocked at once
  size_t finished() const;  // calls that returned
  size_t gave_up() const;
  // "<phase> <hook> <notice id>" per call, in the order they started.
  std::vector<std::string> calls() const;

 private:
  const Duration give_up_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  size_t running_ = 0, peak_ = 0, finished_ = 0, gave_up_ = 0;
  std::vector<std::string> calls_;
};

struct LogEntry {
  LogPriority priority;
  std::string message;
  LogFields fields;
  std::string Field(const std::string& key) const;
};

class CapturingSink final : public LogSink {
 public:
  void Write(LogPriority priority, std::string_view message, const LogFields& fields) override;
  std::vector<LogEntry> Entries() const;
  // Entries whose message contains `needle`.
  std::vector<LogEntry> Find(const std::string& needle) const;

 private:
  mutable std::mutex mu_;
  std::vector<LogEntry> entries_;
};

// Installs a CapturingSink (debug level) for its lifetime and restores the previous sink.
class ScopedLogCapture {
 public:
  ScopedLogCapture();
  ~ScopedLogCapture();
  CapturingSink& sink() { return *sink_; }

 private:
  CapturingSink* sink_;
  std::unique_ptr<LogSink> previous_;
};

}  // namespace lastcall::testing
