// Helpers shared by the actions module's tests: temporary directories, hook scripts, a log
// sink that captures records, process liveness checks, and a hook runner stand-in that blocks
// until released. Test-only code.
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

// A fresh directory under $TMPDIR (mode 0700), removed with everything in it at scope end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void MakeDir(const std::string& path, unsigned mode = 0755);
void WriteFile(const std::string& path, const std::string& contents, unsigned mode = 0644);
// A /bin/sh script with mode 0755.
void WriteScript(const std::string& path, const std::string& body);
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);
std::vector<std::string> Lines(const std::string& text);

// Polls `condition` every 10ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, Duration timeout = std::chrono::seconds(10));

// Alive = exists and is not a zombie (an orphan's zombie waits for PID 1, not for us).
bool ProcessAlive(pid_t pid);

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
