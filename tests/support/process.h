// Child processes for tests that run the project's binaries (lastcalld, mockmeta, stand-ins):
// starting one with its output where the test wants it (Spawn), waiting for a child's exit as an
// event with a bound (WaitChildExit), stopping one by pid (TerminateChild, KillAndReap), asking
// whether any process still runs (ProcessAlive), and the Child guard that kills and reaps by pid
// when it goes away, also when an assertion fails.
//
// Thread-safety: the free functions are safe from any thread (Spawn builds argv and the
// environment before fork; the child only dups and execs). A Child is used from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::testing {

// How Spawn starts a child.
struct SpawnOptions {
  // "NAME=value" sets a variable, a bare "NAME" removes one; the rest of the environment is
  // inherited.
  std::vector<std::string> env;
  int stdout_fd = -1;  // becomes the child's stdout; -1 keeps ours
  int stderr_fd = -1;  // becomes the child's stderr; -1 keeps ours
  // Sets WATCHDOG_PID to the child's own pid, as systemd does for its service.
  bool watchdog_pid = false;
};

// fork + execve of args[0] with `args`; the child's pid, or -1 when fork failed. A child whose
// exec fails exits with 127.
pid_t Spawn(std::vector<std::string> args, const SpawnOptions& options);

// Waits at most `limit` for our child `pid` to exit and reaps it: its wait status (for
// WIFEXITED and friends), -1 when `pid` is no child of ours (never started, already reaped),
// or nullopt while it still runs. The exit is awaited as an event (a pidfd turns readable when
// the child exits), so a quick child costs no polling delay. noexcept: destructors call it.
std::optional<int> WaitChildExit(pid_t pid, std::chrono::milliseconds limit) noexcept;

// A wait status as one number: the exit code, 128 + the signal that ended it, or 255 for -1 (no
// child of ours).
int ExitCode(int wait_status) noexcept;

// SIGKILL to our child `pid`, then reaps it (a SIGKILLed child always exits).
void KillAndReap(pid_t pid) noexcept;

// SIGTERM to our child `pid`, at most `grace` for it to exit, else KillAndReap: its wait status
// (-1 as in WaitChildExit), or nullopt when it had to be killed.
std::optional<int> TerminateChild(pid_t pid, std::chrono::milliseconds grace) noexcept;

// Alive = exists and is not a zombie (an orphan's zombie waits for PID 1, not for us).
bool ProcessAlive(pid_t pid);

// Where a Child's stdout and stderr go.
struct ChildOutput {
  std::string stdout_path;
  std::string stderr_path;
};

// A child process with its stdout/stderr in files; killed (SIGKILL) and reaped by pid when the
// guard goes away unless it already exited. `env` is as in SpawnOptions.
class Child {
 public:
  // Output in <dir>/stdout-<n> and <dir>/stderr-<n> (n counts the Childs of this process).
  // `watchdog_for_child` sets WATCHDOG_PID to the child's pid.
  Child(std::vector<std::string> args, std::vector<std::string> env, const std::string& dir,
        bool watchdog_for_child = false);
  Child(std::vector<std::string> args, std::vector<std::string> env, ChildOutput output,
        bool watchdog_for_child = false);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit (bounded); returns the exit code (128 + signal if killed), or -1 if it did
  // not exit in time.
  int Wait(std::chrono::milliseconds limit = std::chrono::milliseconds(10000));
  // False once it has exited (then reaped; Wait returns its code).
  bool Running();
  // SIGTERM, at most `grace` to exit, else SIGKILL: the exit code as Wait gives it, or -1 when
  // it had to be killed.
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));
  // SIGKILL and reap now (as a crash would end it).
  void Kill();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  ChildOutput output_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

}  // namespace lastcall::testing
