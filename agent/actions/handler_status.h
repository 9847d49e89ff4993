// HandlerStatus: what the notice handler reports about its work, as a value.
//
// The handler builds it (NoticeHandler::Report); status.json embeds it as "handler", `lastcalld
// status` reads it back, and `lastcalld simulate` decides from it whether a hook failed. The
// JSON form is documented in docs/lastcalld.md ("Status file"); FromJson reads exactly what
// ToJson writes (times at second precision) and names the field it cannot read.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/config.h"
#include "agent/base/notice.h"
#include "agent/base/outcome.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

struct PhaseStatus {
  std::optional<WallTime> started;
  std::optional<WallTime> ended;
  std::optional<PhaseResult> result;  // nullopt: not ended
  int attempts = 0;
  friend bool operator==(const PhaseStatus&, const PhaseStatus&) = default;
};

struct NoticeStatus {
  std::string id;
  std::string provider;
  NoticeKind kind = NoticeKind::kInterruption;
  NoticeState state = NoticeState::kActive;
  std::string action;
  std::optional<WallTime> deadline;
  WallTime first_seen{};
  std::optional<WallTime> withdrawn;
  std::optional<WallTime> absent_since;
  int episode = 1;
  std::map<HookPhase, PhaseStatus> phases;
  std::vector<std::string> running_hooks;  // names of the hooks running now
  bool finished = false;                   // nothing will run again for it
  std::string plan;                        // the planner's why
  std::optional<int64_t> seconds_left;     // deadline - now, when it has a deadline
  friend bool operator==(const NoticeStatus&, const NoticeStatus&) = default;
};

struct HandlerStatus {
  std::vector<NoticeStatus> notices;
  size_t running_hooks = 0;
  bool clock_checked = false;  // the clock was checked against a metadata server's Date

  // Whether a phase of any notice ended failed or timed out.
  bool AnyPhaseFailed() const;
  friend bool operator==(const HandlerStatus&, const HandlerStatus&) = default;
};

// One JSON object (foreign strings made valid UTF-8).
std::string HandlerStatusToJson(const HandlerStatus& status);
Result<HandlerStatus> HandlerStatusFromJson(std::string_view text);

}  // namespace lastcall
