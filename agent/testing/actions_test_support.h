// Helpers shared by the actions module's tests: temporary directories, hook scripts, a log
// sink that captures records, and process liveness checks. Test-only code.
//
// Thread-safety: CapturingSink is safe from any thread (hooks log from runner threads).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
