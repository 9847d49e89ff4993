#include "agent/actions/planner.h"

#include <algorithm>

namespace lastcall {

std::optional<WallTime> Planner::ActionDeadline(const Notice& n, WallTime now) {
  if (n.deadline && n.window_end && now >= *n.deadline && *n.window_end > *n.deadline) {
    return n.window_end;
  }
  return n.deadline;
}

WallTime Planner::EffectiveDeadline(const NoticeRecord& record, const HookOptions& options,
                                    WallTime now) {
  if (auto d = ActionDeadline(record.notice, now)) return *d;
  return record.first_seen + options.advisory_budget;
}

bool Planner::WithdrawalDue(const NoticeRecord& record, Duration absent_for,
                            const PollOptions& poll) {
  if (!record.absent_since) return false;
  return record.absent_polls >= static_cast<int>(std::max<size_t>(poll.withdraw_polls, 1)) &&
         absent_for >= poll.withdraw_after;
}

Plan Planner::Decide(const NoticeRecord& record, WallTime now, const HookOptions& options,
                     bool clock_checked) {
  Plan plan;
  const Notice& n = record.notice;
  const WallTime deadline = EffectiveDeadline(record, options, now);

  // Withdrawn or canceled: resume what was started, if that happened before the deadline.
  const bool canceled = n.state == NoticeState::kCanceled;
  if (record.withdrawn || canceled) {
    if (!record.AnyWorkStarted()) {
      plan.finished = true;
      plan.why = canceled ? "canceled before any phase started: nothing to resume"
                          : "withdrawn before any phase started: nothing to resume";
      return plan;
    }
    if (record.withdrawn && !record.superseded_by.empty()) {
      plan.finished = true;
      plan.why = "superseded by " + record.superseded_by + ": no resume";
      return plan;
    }
    // Withdrawn after the deadline means the instance survived but the action time passed:
    // the notice expired rather than being taken back, so there is nothing to undo.
    const WallTime when = record.withdrawn ? std::min(*record.withdrawn, now) : now;
    const std::optional<WallTime> action_at = ActionDeadline(n, when);
    if (action_at && when >= *action_at) {
      plan.finished = true;
      plan.why = "notice ended after its deadline: no resume";
      return plan;
    }
    if (record.Done(HookPhase::kResume)) {
      plan.finished = true;
      plan.why = "resume done";
      return plan;
    }
    plan.phases = {HookPhase::kResume};
    plan.why = canceled ? "canceled after phases started: resume" : "withdrawn: resume";
    return plan;
  }
  if (n.state == NoticeState::kCompleted) {
    plan.finished = true;
    plan.why = "completed";
    return plan;
  }

  plan.hard_end = deadline;
  plan.end_by = deadline - options.safety_margin;
  // Like any phase, notify that started but never ended (crash) runs again.
  plan.run_notify = !record.Done(HookPhase::kNotify);

  std::vector<HookPhase> remaining;
  Duration lead = Duration::zero();
  if (auto it = options.policies.find(n.kind); it != options.policies.end()) {
    lead = it->second.lead;
    for (HookPhase phase : it->second.phases) {
      // notify and resume are not ordered phases; a policy listing them is ignored for them.
      if (phase == HookPhase::kNotify || phase == HookPhase::kResume) continue;
      // Interrupted means the notice was withdrawn mid-phase; if it is back (metadata can
      // flap) before resume started, the phase has not really been done.
      auto done = record.phases.find(phase);
      if (done == record.phases.end() || !done->second.done() ||
          done->second.result == PhaseResult::kInterrupted) {
        remaining.push_back(phase);
      }
    }
  }

  if (remaining.empty()) {
    plan.finished = !plan.run_notify;
    plan.why = "all phases done";
    return plan;
  }
  if (!clock_checked) {
    // This run has not yet compared its clock with the server's Date: "past" may only mean a
    // wrong local clock. A late drain is far better than a skipped one: run, on own timeouts.
    if (lead > Duration::zero() && n.deadline && now < *n.deadline - lead) {
      plan.start_at = *n.deadline - lead;
      plan.why = "waiting until lead time before the deadline";
      return plan;
    }
    plan.hard_end.reset();
    plan.end_by.reset();
    plan.phases = remaining;
    plan.why = "running phases (clock not yet checked against the server: no deadline cut)";
    return plan;
  }
  if (now >= deadline) {
    plan.skip = remaining;
    plan.finished = !plan.run_notify;
    plan.why = "deadline passed before the phases could run: skipped, notify only";
    return plan;
  }
  if (lead > Duration::zero() && n.deadline && now < *n.deadline - lead) {
    plan.start_at = *n.deadline - lead;
    plan.why = "waiting until lead time before the deadline";
    return plan;
  }
  plan.phases = remaining;
  plan.why = "running phases";
  return plan;
}

void Planner::SortByUrgency(std::vector<NoticeRecord>& records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const NoticeRecord& a, const NoticeRecord& b) {
                     const std::optional<WallTime>& da = a.notice.deadline;
                     const std::optional<WallTime>& db = b.notice.deadline;
                     if (da.has_value() != db.has_value()) return da.has_value();
                     return da && *da < *db;
                   });
}

std::string Planner::SupersededBy(const NoticeRecord& advisory,
                                  const std::vector<NoticeRecord>& records) {
  const Notice& a = advisory.notice;
  if (a.deadline || !advisory.withdrawn) return "";
  for (const NoticeRecord& r : records) {
    const Notice& n = r.notice;
    if (n.id == a.id || n.provider != a.provider || !n.deadline) continue;
    if (r.first_seen < advisory.first_seen) continue;  // older: it did not replace the advisory
    if (n.state == NoticeState::kCanceled) continue;   // taken back: the instance stays
    // Withdrawn before its deadline: the instance survives, so the advisory really ended.
    if (r.withdrawn && *r.withdrawn < *n.deadline) continue;
    return n.id;
  }
  return "";
}

std::optional<Duration> Planner::HookTimeout(const Plan& plan, WallTime now, Duration own) {
  if (!plan.hard_end) return own;
  auto left = std::chrono::duration_cast<Duration>(*plan.hard_end - now);
  if (left <= Duration::zero()) return std::nullopt;
  auto soft = std::chrono::duration_cast<Duration>(*plan.end_by - now);
  Duration floor = std::min(kMinimalBudget, left);
  return std::min(own, std::max(soft, floor));
}

}  // namespace lastcall
