// Helpers for tests that run the project's binaries (lastcalld, stand-ins) as child processes:
// a Child guard that kills and reaps by pid when it goes away (also when an assertion fails),
// bounded polling for a condition, and small file helpers. Header-only.
//
// Thread-safety: a Child is used from the test's thread only.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lastcall::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Occurrences of `needle` in `haystack` (non-overlapping).
inline size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// Polls `pred` every 10 ms until it holds or `limit` passes; returns its last value. For
// waiting on another process's visible effects (files, requests), never as a blind sleep.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// True when no process `pid` runs any more (gone, or a zombie waiting for its reaper).
inline bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || (paren + 2 < stat.size() && stat[paren + 2] == 'Z');
}

// A child process with its stdout/stderr in files under `dir`; killed (SIGKILL) and reaped by
// pid when the guard goes away unless it already exited. `env` entries ("NAME=value") are
// added to the inherited environment.
class Child {
 public:
  Child(std::vector<std::string> args, std::vector<std::string> env, const std::string& dir,
        bool watchdog_for_child = false) {
    out_ = dir + "/stdout-" + std::to_string(++counter_);
    err_ = dir + "/stderr-" + std::to_string(counter_);
    pid_ = ::fork();
    if (pid_ == 0) {
      int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      for (auto& kv : env) ::putenv(kv.data());
      std::string wd_pid = "WATCHDOG_PID=" + std::to_string(::getpid());
      if (watchdog_for_child) ::putenv(wd_pid.data());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) {
    if (!exited_) ::kill(pid_, sig);
  }
  // Waits for exit (bounded); returns the exit code (128 + signal if killed), or -1 if it did
  // not exit in time.
  int Wait(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    if (exited_) return code_;
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return code_;
      }
      if (std::chrono::steady_clock::now() >= end) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::string Stdout() const { return ReadFile(out_); }
  std::string Stderr() const { return ReadFile(err_); }

 private:
  static inline int counter_ = 0;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  std::string out_, err_;
};

}  // namespace lastcall::testing
