// Notice: what a provider saw in the instance metadata, as a value.
//
// Providers turn HTTP answers into Notices; the watcher compares successive snapshots to find
// new, changed and withdrawn notices; the planner decides what to run for each. A Notice never
// holds a reference to the provider or the HTTP response that produced it.
//
// Identity: `id` is stable. The same notice seen twice, or seen again by a restarted agent,
// has the same id (it is derived from the payload's own identity: the action time, the event
// id, the notice time), and a new notice has a new one. `MakeNoticeId` is the one place ids
// are built. Thread-safety: plain value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

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
std::string_view NoticeKindName(NoticeKind kind);
std::optional<NoticeKind> ParseNoticeKind(std::string_view name);

// Whether the notice is in force. A scheduled event can be canceled or completed while still
// listed; a withdrawn notice simply disappears from the snapshot.
enum class NoticeState { kActive, kCanceled, kCompleted };
std::string_view NoticeStateName(NoticeState state);

struct Notice {
  std::string id;        // stable, see MakeNoticeId
  std::string provider;  // "aws", "alibaba"
  NoticeKind kind = NoticeKind::kInterruption;
  NoticeState state = NoticeState::kActive;
  // What will happen to the instance: terminate, stop, hibernate (AWS instance-action),
  // release (Alibaba), reboot / system-reboot / instance-stop / ... (maintenance codes),
  // rebalance, lifecycle target state.
  std::string action;
  // When the action happens. None for advisories (rebalance, lifecycle).
  std::optional<WallTime> deadline;
  // When the cloud published the notice, if it says (rebalance noticeTime).
  std::optional<WallTime> notice_time;
  std::string source;  // metadata path it came from, e.g. "spot/instance-action"
  std::string raw;     // the payload as received, for hooks and logs

  friend bool operator==(const Notice&, const Notice&) = default;
};

// Builds a readable, filesystem-safe, stable id, e.g.
// MakeNoticeId("aws", kInterruption, "i-0abc", "2017-09-18T08:22:00Z")
//   == "aws-interruption-i-0abc-20170918T082200Z".
// `key` is the part of the payload that identifies this notice (a time or an event id).
std::string MakeNoticeId(std::string_view provider, NoticeKind kind,
                         std::string_view instance_id, std::string_view key);

// The notice as the JSON object hooks read on stdin and `lastcalld status` prints.
std::string NoticeToJson(const Notice& notice);

}  // namespace lastcall
