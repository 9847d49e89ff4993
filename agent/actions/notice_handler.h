// NoticeHandler: the "decide and act" half of the agent, as the daemon loop sees it.
//
// The daemon feeds it every poll result; the handler works out what is new, what changed and
// what was withdrawn (using its persistent state, so a restarted agent does not rerun finished
// phases), plans the phases per notice, and runs the hooks on its own threads so that polling
// and the systemd watchdog go on while hooks run.
//
// Withdrawal needs evidence: a notice is withdrawn only after it was absent from
// poll.withdraw_polls clean polls (PollResult::ok()) in a row and for poll.withdraw_after; a
// notice that vanished because its path answered 500 is not absent at all.
//
// Thread-safety: all methods may be called from the daemon thread while hooks run; the
// implementation synchronises internally.
#pragma once

#include <cstddef>
#include <string>

#include "agent/actions/handler_status.h"
#include "agent/base/config.h"
#include "agent/base/provider.h"
#include "common/clock.h"

namespace lastcall {

class NoticeHandler {
 public:
  virtual ~NoticeHandler() = default;

  // Feed every validated identity read. The handler decides what to believe (IdentityTracker:
  // a different identity only after repeated reads, then another instance's separate state);
  // the believed identity goes into every hook's environment (LASTCALL_INSTANCE_ID, ...).
  virtual void SetIdentity(const Identity& identity) = 0;
  // A different identity is being confirmed: the daemon reads it again every poll.
  virtual bool IdentityPending() const { return false; }

  // Feed one poll. `now` is the effective wall time: the metadata server's Date when the local
  // clock disagrees with it by more than the configured threshold. Returns without waiting
  // for hooks.
  virtual void Update(const PollResult& poll, WallTime now) = 0;

  // Applies a reloaded config (hooks, timeouts, policies) without losing state. Runs already
  // started keep the settings they started with.
  virtual void Reconfigure(const Config& config) = 0;

  // Known notices, their phases and results, running hooks.
  virtual HandlerStatus Report() const = 0;
  // Report() as one JSON object (HandlerStatusToJson).
  std::string StatusJson() const { return HandlerStatusToJson(Report()); }
  virtual size_t RunningHooks() const = 0;

  // Stops starting new work; running hooks get until `grace` to end, then their process groups
  // are killed. Blocks until every hook thread has ended.
  virtual void Shutdown(Duration grace) = 0;
};

}  // namespace lastcall
