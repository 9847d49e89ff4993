#include "agent/testing/actions_test_support.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "tests/support/files.h"
#include "tests/support/process.h"

namespace lastcall::testing {

PidFileGuard::~PidFileGuard() {
  for (const std::string& file : files_) {
    std::string text = ReadFile(file);
    if (text.empty()) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
    if (pid > 1 && ProcessAlive(pid)) ::kill(pid, SIGKILL);
  }
}

std::string PidFileGuard::Watch(const std::string& pid_file) {
  files_.push_back(pid_file);
  return pid_file;
}

int ThreadsInProcess() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

HookRun BlockingHookRunner::Run(const HookRunRequest& request) {
  std::unique_lock lock(mu_);
  calls_.push_back(std::string(HookPhaseName(request.hook.phase)) + " " + request.hook.name + " " +
                   request.notice.id);
  peak_ = std::max(peak_, ++running_);
  cv_.notify_all();  // WaitRunning
  const bool released = cv_.wait_for(lock, give_up_, [this] { return released_; });
  --running_;
  ++finished_;
  HookRun result;
  if (released) {
    result.result = HookResult::kOk;
    result.exit_code = 0;
  } else {
    ++gave_up_;
    result.result = HookResult::kTimeout;
  }
  return result;
}

void BlockingHookRunner::Release() {
  std::lock_guard lock(mu_);
  released_ = true;
  cv_.notify_all();
}

bool BlockingHookRunner::WaitRunning(size_t n, Duration timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return running_ >= n; });
}

size_t BlockingHookRunner::running() const {
  std::lock_guard lock(mu_);
  return running_;
}
size_t BlockingHookRunner::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}
size_t BlockingHookRunner::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}
size_t BlockingHookRunner::gave_up() const {
  std::lock_guard lock(mu_);
  return gave_up_;
}
std::vector<std::string> BlockingHookRunner::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::string LogEntry::Field(const std::string& key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

void CapturingSink::Write(LogPriority priority, std::string_view message, const LogFields& fields) {
  std::lock_guard lock(mu_);
  entries_.push_back({priority, std::string(message), fields});
}

std::vector<LogEntry> CapturingSink::Entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

std::vector<LogEntry> CapturingSink::Find(const std::string& needle) const {
  std::lock_guard lock(mu_);
  std::vector<LogEntry> out;
  for (const LogEntry& e : entries_) {
    if (e.message.find(needle) != std::string::npos) out.push_back(e);
  }
  return out;
}

ScopedLogCapture::ScopedLogCapture() {
  auto sink = std::make_unique<CapturingSink>();
  sink_ = sink.get();
  previous_ = SetLogSink(std::move(sink));
  SetLogLevel(LogPriority::kDebug);
}

ScopedLogCapture::~ScopedLogCapture() {
  SetLogLevel(LogPriority::kInfo);
  SetLogSink(std::move(previous_));
}

}  // namespace lastcall::testing
