// Helpers for tests that run the project's binaries (lastcalld, stand-ins) as child processes:
// a Child guard that kills and reaps by pid when it goes away (also when an assertion fails),
// bounded polling for a condition, and small file helpers. Header-only.
//
// Thread-safety: a Child is used from the test's thread only.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
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

// Waits at most `limit` for our child `pid` to exit and reaps it: its wait status (for
// WIFEXITED and friends), -1 when `pid` is no child of ours (never started, already reaped),
// or nullopt while it still runs. The exit is awaited as an event (a
// pidfd turns readable when the child exits), so a quick child costs no polling delay.
// noexcept: destructors call it.
inline std::optional<int> WaitChildExit(pid_t pid, std::chrono::milliseconds limit) noexcept {
  const auto end = std::chrono::steady_clock::now() + limit;
  // syscall(2), not pidfd_open(3): Debian 12's <sys/pidfd.h> lacks extern "C" (glibc 2.36).
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
      if (r >= 0 || errno != EINTR) break;
    }
    ::close(fd);
  }
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return status;
  if (r < 0) return -1;
  return std::nullopt;
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
    // argv and the environment are built before fork: the child only opens, dups and execs.
    std::vector<char*> argv = Pointers(args);
    // "WATCHDOG_PID=<the child's own pid>" is known only in the child; it fills this slot.
    std::string watchdog_pid(32, '\0');
    if (watchdog_for_child) env.insert(env.begin(), "WATCHDOG_PID=");
    for (char** inherited = environ; *inherited != nullptr; ++inherited) {
      if (!Overridden(env, *inherited)) env.emplace_back(*inherited);
    }
    std::vector<char*> envp = Pointers(env);
    if (watchdog_for_child) envp.front() = watchdog_pid.data();
    pid_ = ::fork();
    if (pid_ == 0) {
      int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      if (watchdog_for_child) FormatPid("WATCHDOG_PID=", ::getpid(), watchdog_pid.data());
      ::execve(argv[0], argv.data(), envp.data());
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
    const std::optional<int> st = WaitChildExit(pid_, limit);
    if (!st) return -1;
    exited_ = true;
    code_ = *st == -1 ? 255 : WIFEXITED(*st) ? WEXITSTATUS(*st) : 128 + WTERMSIG(*st);
    return code_;
  }
  std::string Stdout() const { return ReadFile(out_); }
  std::string Stderr() const { return ReadFile(err_); }

 private:
  // NUL-terminated pointers into `strings` (which must outlive them), for exec.
  static std::vector<char*> Pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  }
  // True when `entry` ("NAME=value") names a variable one of `env` sets.
  static bool Overridden(const std::vector<std::string>& env, std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    for (const std::string& e : env) {
      if (std::string_view(e).substr(0, e.find('=')) == name) return true;
    }
    return false;
  }
  // `prefix` and `pid` in decimal into `out` (room for 32 bytes), NUL-terminated; no allocation,
  // so it is safe between fork and exec.
  static void FormatPid(const char* prefix, pid_t pid, char* out) {
    while (*prefix != '\0') *out++ = *prefix++;
    char digits[16];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + pid % 10);
      pid /= 10;
    } while (pid > 0);
    while (n > 0) *out++ = digits[--n];
    *out = '\0';
  }

  static inline int counter_ = 0;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  std::string out_, err_;
};

}  // namespace lastcall::testing
