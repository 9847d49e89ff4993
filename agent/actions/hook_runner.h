// HookRunner: runs one hook as a child process and reports how it ended.
//
// The hook runs in a new process group with exactly the environment of the hooks contract
// (LASTCALL_* variables, a fixed PATH unless the hook sets its own, and the hook's env; nothing
// inherited from the daemon), working directory /, the notice as JSON on stdin, and
// stdout/stderr logged line by line with HOOK, PHASE and NOTICE_ID fields (at most
// max_output_bytes per hook, then one "output truncated" line). Every descriptor we create
// is O_CLOEXEC and the child closes every fd above 2 before exec, so no daemon fd leaks in.
//
// Limits: on timeout the whole process group gets SIGTERM, then SIGKILL after kill_grace.
// When the hook's own process exits, anything it left in its group gets the same treatment,
// so a hook that traps SIGTERM and forks a grandchild leaves nothing behind. Timeouts run on
// the injected clock's monotonic time (with a FakeClock they fire only when it is advanced).
//
// Thread-safety: Run() may be called from several threads at once (notify hooks run in
// parallel). Abort() may be called from any thread; it stops every current and later run.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>

#include "agent/actions/hook_catalog.h"
#include "agent/base/notice.h"
#include "agent/base/outcome.h"
#include "agent/base/provider.h"
#include "common/clock.h"

namespace lastcall {

struct HookRunRequest {
  Hook hook;
  Notice notice;
  Identity identity;
  WallTime now{};  // effective now at start: LASTCALL_SECONDS_LEFT = deadline - now
  // Used for LASTCALL_SECONDS_LEFT when the notice has no deadline (advisories).
  std::optional<WallTime> effective_deadline;
  Duration timeout = std::chrono::seconds(60);
  Duration kill_grace = std::chrono::seconds(5);
  size_t max_output_bytes = 64 * 1024;
  // Called once the hook runs, with its process group and the kernel start time of its leader
  // (ProcessStartTicks), so the caller can record them (hooks of a previous run, below).
  std::function<void(pid_t pgid, unsigned long long start_ticks)> on_start;
};

// How one run of a hook ended.
struct HookRun {
  HookResult result = HookResult::kStartFailed;
  int exit_code = -1;  // the hook exited (kOk, or kFailed with signal 0): its exit status
  int signal = 0;      // the signal that ended it (kFailed, also kTimeout and kAborted)
  Duration duration{};
  std::string error;  // kStartFailed: why
  pid_t pid = -1;

  bool ok() const { return result == HookResult::kOk; }
  // For the log: the HookResultName, except a failure says how: "exit-3" or "signal-9".
  std::string Describe() const;
};

class HookRunner {
 public:
  explicit HookRunner(const Clock& clock) : clock_(clock) {}

  HookRun Run(const HookRunRequest& request);

  // Stops all runs: their groups get SIGTERM, then SIGKILL after their kill_grace.
  void Abort() { aborted_ = true; }
  bool aborted() const { return aborted_; }

  // Hooks of a previous run: a hook group that a killed agent left behind (kill -9, or a unit
  // without KillMode=mixed). Waits until `wait` for it to end by itself (the hook's own
  // timeout, as it was recorded), then SIGTERM to the group and SIGKILL after `kill_grace`,
  // like a timed-out hook. A leader pid that now belongs to another process (its start time
  // differs) is not ours: nothing is signalled. Returns whether a live group was found.
  // Runs on the injected clock's monotonic time.
  bool WaitOrStopLeftover(pid_t pgid, unsigned long long start_ticks, Duration wait,
                          Duration kill_grace) const;
  // Hook process groups still alive whose leader's environment says they run `phase` for
  // `notice_id` (and, when `instance_id` is not empty, for that instance): found by their
  // environment, so a group is found even when the agent was killed before it could record it.
  static std::vector<pid_t> FindHookGroups(const std::string& notice_id, HookPhase phase,
                                           const std::string& instance_id);
  // /proc/<pid>/stat field 22 (start time in clock ticks since boot); 0 if there is no such
  // process.
  static unsigned long long ProcessStartTicks(pid_t pid);

  // The environment a hook gets, as NAME=value strings (exposed for tests and `simulate`).
  static std::vector<std::string> BuildEnvironment(const HookRunRequest& request);

 private:
  const Clock& clock_;
  std::atomic<bool> aborted_{false};
};

}  // namespace lastcall
