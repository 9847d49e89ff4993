// Parsers for the AWS and Alibaba metadata payloads (docs/mockmeta-imds.md, "Items"), as pure
// functions.
//
// Each takes the body as received and returns a small value or a Status (kDataLoss) that says
// what is wrong with the payload and how it should look. They never throw, whatever the input
// (nlohmann::json exceptions are caught here), and never read the clock: time comes from the
// payload only, so the same payload always gives the same value (and hence the same notice id).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/notice.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

// Deadlines: a time that is well-formed but outside the years a WallTime holds (1678-2261,
// common/time_format.h) is read as "no usable deadline" (nullopt): the notice still counts, and
// the planner gives it the advisory budget. It is never taken for a time in the past (a year
// 2300 once wrapped to 1715 and skipped checkpoint and drain).

// spot/instance-action: {"action":"terminate"|"stop"|"hibernate","time":"<RFC 3339>"}.
struct InstanceAction {
  std::string action;
  std::optional<WallTime> time;  // nullopt: no usable deadline (see above)
};
Result<InstanceAction> ParseInstanceAction(std::string_view body);

// spot/termination-time (AWS legacy) and instance/spot/termination-time (Alibaba): a plain
// RFC 3339 time, surrounding whitespace tolerated.
Result<std::optional<WallTime>> ParseTerminationTime(std::string_view body);

// events/recommendations/rebalance: {"noticeTime":"<RFC 3339>"}.
Result<WallTime> ParseRebalance(std::string_view body);

// One entry of events/maintenance/scheduled.
struct ScheduledEvent {
  std::string code;                    // instance-reboot, system-reboot, ...
  std::string description;             // may be empty
  std::string event_id;                // instance-event-0d59937288b749b32
  std::optional<WallTime> not_before;  // nullopt: no usable deadline (see above)
  std::optional<WallTime> not_after;
  NoticeState state = NoticeState::kActive;
  std::string raw;  // this entry as compact JSON
};
struct ScheduledEvents {
  std::vector<ScheduledEvent> events;
  // One per entry that could not be used; the good entries are still returned, so one odd
  // event does not hide the others.
  std::vector<Status> errors;
};
// A JSON array (possibly empty). A body that is not a JSON array is an error as a whole.
Result<ScheduledEvents> ParseScheduledEvents(std::string_view body);

// autoscaling/target-lifecycle-state: one of the documented states (InService, Terminated,
// Detached, Standby, Warmed:*). Returns the state as sent, trimmed.
Result<std::string> ParseLifecycleState(std::string_view body);

}  // namespace lastcall
