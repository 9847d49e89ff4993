// Notice: what a provider saw in the instance metadata, as a value.
//
// Providers turn HTTP answers into Notices; the watcher compares successive snapshots to find
// new, changed and withdrawn notices; the planner decides what to run for each. A Notice never
// holds a reference to the provider or the HTTP response that produced it.
//
// Identity: `id` is the notice's key, what the cloud means by one event: provider, kind and,
// where the cloud gives one, its event id (scheduled events). Never the notice's own times (a
// moved deadline is the same notice with a new attribute) and never the instance identity as
// re-read by a poll: the instance is the state partition the record lives in (IdentityStore),
// so a wrongly read instance id cannot split one notice in two. The same notice seen twice, or
// seen again by a restarted agent, has the same id. `MakeNoticeId` is the one place ids are
// built; it is injective and its result is a bounded, safe file name. Thread-safety: plain
// value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/enum_names.h"

namespace lastcall {

enum class NoticeKind {
  kInterruption,  // AWS spot/instance-action (or legacy termination-time)
  kRelease,       // Alibaba instance/spot/termination-time
  kRebalance,     // AWS events/recommendations/rebalance (advisory, no deadline)
  kMaintenance,   // AWS events/maintenance/scheduled (deadline = NotBefore)
  kPreempt,       // GCP / Azure preemption (later)
  kLifecycle,     // AWS autoscaling/target-lifecycle-state == Terminated
};

// "interruption", "release", ... as used in config keys, env vars, metrics labels and state.
inline constexpr EnumNames<NoticeKind, 6> kNoticeKindNames = {{
    {NoticeKind::kInterruption, "interruption"},
    {NoticeKind::kRelease, "release"},
    {NoticeKind::kRebalance, "rebalance"},
    {NoticeKind::kMaintenance, "maintenance"},
    {NoticeKind::kPreempt, "preempt"},
    {NoticeKind::kLifecycle, "lifecycle"},
}};
std::string_view NoticeKindName(NoticeKind kind);
std::optional<NoticeKind> ParseNoticeKind(std::string_view name);

// Whether the notice is in force. A scheduled event can be canceled or completed while still
// listed; a withdrawn notice simply disappears from the snapshot.
enum class NoticeState { kActive, kCanceled, kCompleted };
inline constexpr EnumNames<NoticeState, 3> kNoticeStateNames = {{
    {NoticeState::kActive, "active"},
    {NoticeState::kCanceled, "canceled"},
    {NoticeState::kCompleted, "completed"},
}};
std::string_view NoticeStateName(NoticeState state);
std::optional<NoticeState> ParseNoticeState(std::string_view name);

struct Notice {
  std::string id;        // stable key, see MakeNoticeId
  std::string provider;  // "aws", "alibaba"
  NoticeKind kind = NoticeKind::kInterruption;
  NoticeState state = NoticeState::kActive;
  // What will happen to the instance: terminate, stop, hibernate (AWS instance-action),
  // release (Alibaba), reboot / system-reboot / instance-stop / ... (maintenance codes),
  // rebalance, lifecycle target state.
  std::string action;
  // The cloud's own id of the event, where it gives one (scheduled events' EventId); part of
  // the key. Empty otherwise.
  std::string event_id;
  // When the action happens. None for advisories (rebalance, lifecycle). Maintenance: NotBefore.
  std::optional<WallTime> deadline;
  // The end of the action's window where the cloud gives one (maintenance NotAfter): inside
  // [deadline, window_end) the action is imminent, and hooks work toward window_end.
  std::optional<WallTime> window_end;
  // When the cloud published the notice, if it says (rebalance noticeTime).
  std::optional<WallTime> notice_time;
  std::string source;  // metadata path it came from, e.g. "spot/instance-action"
  std::string raw;     // the payload as received, for hooks and logs

  friend bool operator==(const Notice&, const Notice&) = default;
};

// Builds the notice key, e.g. MakeNoticeId("aws", kInterruption, "") == "aws-interruption" and
// MakeNoticeId("aws", kMaintenance, "instance-event-0d59") ==
// "aws-maintenance-instance-event-0d59". `provider` is one of our fixed names. `event_id` is
// foreign: it is kept as is when it is at most kMaxVerbatimEventId characters of [A-Za-z0-9._-]
// starting with an alphanumeric, and otherwise replaced by "~" and the 32 hex digits of its 128-bit
// FNV-1a hash, so that distinct event ids give distinct keys ("e/1" and "e1" no longer collide) and
// every key is a short, safe file name.
inline constexpr size_t kMaxVerbatimEventId = 64;
std::string MakeNoticeId(std::string_view provider, NoticeKind kind, std::string_view event_id);

// The fields whose change is worth a log line and a re-plan: state, action, deadline, window.
// (raw and notice_time may change with every answer of some metadata servers.)
bool SameTerms(const Notice& a, const Notice& b);

// The notice as the JSON object hooks read on stdin and `lastcalld status` prints.
std::string NoticeToJson(const Notice& notice);

}  // namespace lastcall
