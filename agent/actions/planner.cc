#include "agent/actions/planner.h"

#include <algorithm>
#include <utility>

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

namespace {

Plan Finished(std::string why) {
  Plan plan;
  plan.finished = true;
  plan.why = std::move(why);
  return plan;
}

// A notice withdrawn or canceled: resume what was started, once, if it ended before its
// deadline; otherwise nothing is left to do.
Plan DecideEnded(const NoticeRecord& record, WallTime now) {
  const Notice& n = record.notice;
  const bool canceled = n.state == NoticeState::kCanceled;
  if (!record.AnyWorkStarted()) {
    return Finished(canceled ? "canceled before any phase started: nothing to resume"
                             : "withdrawn before any phase started: nothing to resume");
  }
  if (record.withdrawn && !record.superseded_by.empty()) {
    return Finished("superseded by " + record.superseded_by + ": no resume");
  }
  // Withdrawn after the deadline means the instance survived but the action time passed:
  // the notice expired rather than being taken back, so there is nothing to undo.
  const WallTime when = record.withdrawn ? std::min(*record.withdrawn, now) : now;
  const std::optional<WallTime> action_at = Planner::ActionDeadline(n, when);
  if (action_at && when >= *action_at)
    return Finished("notice ended after its deadline: no resume");
  if (record.Done(HookPhase::kResume)) return Finished("resume done");
  Plan plan;
  plan.phases = {HookPhase::kResume};
  plan.why = canceled ? "canceled after phases started: resume" : "withdrawn: resume";
  return plan;
}

// What the notice kind's policy still asks for: its ordered phases not yet done, and its lead.
struct PolicyWork {
  std::vector<HookPhase> remaining;
  Duration lead = Duration::zero();
};

PolicyWork RemainingWork(const NoticeRecord& record, const HookOptions& options) {
  PolicyWork work;
  auto it = options.policies.find(record.notice.kind);
  if (it == options.policies.end()) return work;
  work.lead = it->second.lead;
  for (HookPhase phase : it->second.phases) {
    // notify and resume are not ordered phases; a policy listing them is ignored for them.
    if (phase == HookPhase::kNotify || phase == HookPhase::kResume) continue;
    // Interrupted means the notice was withdrawn mid-phase; if it is back (metadata can
    // flap) before resume started, the phase has not really been done.
    auto done = record.phases.find(phase);
    if (done == record.phases.end() || !done->second.done() ||
        done->second.result == PhaseResult::kInterrupted) {
      work.remaining.push_back(phase);
    }
  }
  return work;
}

// When the phases may start, if that is still ahead: `lead` before the deadline.
std::optional<WallTime> LeadStart(const Notice& n, Duration lead, WallTime now) {
  if (lead > Duration::zero() && n.deadline && now < *n.deadline - lead) return *n.deadline - lead;
  return std::nullopt;
}

}  // namespace

Plan Planner::Decide(const NoticeRecord& record, WallTime now, const HookOptions& options,
                     bool clock_checked) {
  const Notice& n = record.notice;
  if (record.withdrawn || n.state == NoticeState::kCanceled) return DecideEnded(record, now);
  if (n.state == NoticeState::kCompleted) return Finished("completed");

  Plan plan;
  const WallTime deadline = EffectiveDeadline(record, options, now);
  plan.hard_end = deadline;
  plan.end_by = deadline - options.safety_margin;
  // Like any phase, notify that started but never ended (crash) runs again.
  plan.run_notify = !record.Done(HookPhase::kNotify);

  PolicyWork work = RemainingWork(record, options);
  if (work.remaining.empty()) {
    plan.finished = !plan.run_notify;
    plan.why = "all phases done";
    return plan;
  }
  // Until this run has compared its clock with the server's Date, "past" may only mean a
  // wrong local clock. A late drain is far better than a skipped one: run, on own timeouts.
  if (clock_checked && now >= deadline) {
    plan.skip = std::move(work.remaining);
    plan.finished = !plan.run_notify;
    plan.why = "deadline passed before the phases could run: skipped, notify only";
    return plan;
  }
  if (std::optional<WallTime> start = LeadStart(n, work.lead, now)) {
    plan.start_at = start;
    plan.why = "waiting until lead time before the deadline";
    return plan;
  }
  plan.phases = std::move(work.remaining);
  if (!clock_checked) {
    plan.hard_end.reset();
    plan.end_by.reset();
    plan.why = "running phases (clock not yet checked against the server: no deadline cut)";
    return plan;
  }
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
