// Planner: the pure "decide" step. Given a notice's record, the effective now and the hook
// options, it says which phases to run next, when, and within which time.
//
// Rules (docs: design.md "Hooks"):
//  - Active notices run the phases of their kind's PhasePolicy in order (checkpoint, drain),
//    skipping phases already done. A phase started but not ended (crash) is run again.
//  - A policy `lead` delays the phases until `lead` before the deadline (maintenance events are
//    announced days ahead); notify hooks still run at once.
//  - notify hooks run once per notice, in parallel with the phases, best effort (again only
//    if a crash cut them short, like any phase).
//  - Hooks must end by the deadline minus the safety margin. Advisories without a deadline
//    (rebalance, lifecycle) get `advisory_budget` from when they were first seen.
//  - Maintenance inside its window: an active event whose NotBefore (deadline) has passed and
//    whose NotAfter (window_end) has not is imminent, not missed: phases run at once and work
//    toward NotAfter (ActionDeadline). Without NotAfter, NotBefore is the deadline.
//  - Server time first: until this run has checked its clock against the server's Date
//    (`clock_checked`), nothing is skipped as past and hooks get their own timeouts, not a cut
//    from a deadline that may only look past.
//  - Withdrawal needs evidence (WithdrawalDue): absent from poll.withdraw_polls clean polls in
//    a row and for poll.withdraw_after.
//  - Deadline already past when a phase would start: the phases are recorded as "skipped"
//    and only notify runs. Running a checkpoint after the cloud's deadline would most likely be
//    cut off half-way, and a half-written checkpoint is worse than the previous good one.
//    Inside the safety margin (deadline not yet reached) hooks still run, with a small minimal
//    budget (kMinimalBudget, capped by the time that is really left): trying is better there.
//  - A notice withdrawn (vanished from a clean poll) or canceled before its deadline, after
//    checkpoint or drain started, gets the `resume` phase (once, no deadline: default_timeout).
//    Nothing is resumed that never started. `completed` maintenance is simply finished.
//  - Superseded, not withdrawn: an advisory without a deadline (rebalance, lifecycle) that
//    vanishes while a notice WITH a deadline is on record for the instance (first seen at or
//    after the advisory, and not itself withdrawn or canceled before its deadline) was replaced
//    by it, e.g. a rebalance recommendation followed by the interruption, after which the
//    terminated instance answers 404 everywhere. No resume for it (SupersededBy; the handler
//    records the id in NoticeRecord::superseded_by). The records in one state_dir are one
//    instance's, so "for the instance" is every record of the same provider.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/actions/notice_record.h"
#include "agent/base/config.h"
#include "common/clock.h"

namespace lastcall {

struct Plan {
  // Phases to run now, in order (checkpoint, drain), or {resume}.
  std::vector<HookPhase> phases;
  // Phases given up on now (deadline passed): record them as "skipped".
  std::vector<HookPhase> skip;
  bool run_notify = false;  // start notify hooks now (they were not started before)
  // Nothing to run yet; plan again at or after this time (the lead time).
  std::optional<WallTime> start_at;
  // Hooks must end by this time (deadline or advisory end, minus safety margin); nullopt = no
  // deadline (resume). `hard_end` is the deadline itself.
  std::optional<WallTime> end_by;
  std::optional<WallTime> hard_end;
  // Nothing will ever run again for this notice (all done, or nothing to do).
  bool finished = false;
  std::string why;  // for logs and `lastcalld status`

  bool idle() const { return phases.empty() && skip.empty() && !run_notify; }
};

class Planner {
 public:
  // A hook that is allowed to run at all gets at least this (or what is left before the hard
  // deadline, if less), even inside the safety margin.
  static constexpr Duration kMinimalBudget = std::chrono::seconds(1);

  static Plan Decide(const NoticeRecord& record, WallTime now, const HookOptions& options,
                     bool clock_checked = true);

  // When the action happens, as seen at `now`: the deadline, or inside a window (maintenance
  // NotBefore passed, NotAfter given and later) the window's end. nullopt for advisories.
  static std::optional<WallTime> ActionDeadline(const Notice& notice, WallTime now);

  // Whether an absent notice has been absent long enough to be withdrawn (rule above).
  // `absent_for` is measured on the monotonic clock: a server whose Date stands still (or
  // jumps) must neither freeze nor shortcut the window.
  static bool WithdrawalDue(const NoticeRecord& record, Duration absent_for,
                            const PollOptions& poll);

  // The timeout of one hook started at `now` under `plan`: min(own, time left - margin), at
  // least min(kMinimalBudget, time left). nullopt: the deadline has passed, do not start it.
  static std::optional<Duration> HookTimeout(const Plan& plan, WallTime now, Duration own);

  // Orders `records` most urgent first: notices with a deadline, earliest first, then
  // advisories, each group otherwise in its given order. Work is started in this order, so an
  // interruption's hooks never queue behind a rebalance recommendation's.
  static void SortByUrgency(std::vector<NoticeRecord>& records);

  // The id of the deadlined notice in `records` that supersedes the withdrawn advisory
  // `advisory` (rule above), or "" if none does (or `advisory` is not a withdrawn advisory).
  static std::string SupersededBy(const NoticeRecord& advisory,
                                  const std::vector<NoticeRecord>& records);

  // The deadline hooks work toward at `now`: ActionDeadline, or first_seen + advisory_budget.
  static WallTime EffectiveDeadline(const NoticeRecord& record, const HookOptions& options,
                                    WallTime now);
};

}  // namespace lastcall
