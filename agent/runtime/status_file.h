// DaemonStatus: what lastcalld writes to <runtime_dir>/status.json, as a value.
//
// The daemon fills one after each poll (Daemon::WriteStatus) and writes its JSON; `lastcalld
// status` reads the file back into one (DaemonStatusFromJson) and renders it. The fields and
// their JSON are documented in docs/lastcalld.md ("Status file"). The per-poll fields (times,
// counters) are optional so that a change key without them can be made (WithoutPerPollFields).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/actions/handler_status.h"
#include "agent/base/notice.h"
#include "agent/base/provider.h"
#include "common/clock.h"
#include "common/enum_names.h"
#include "common/status.h"

namespace lastcall {

enum class DaemonState { kRunning, kStopped };
inline constexpr EnumNames<DaemonState, 2> kDaemonStateNames = {{
    {DaemonState::kRunning, "running"},
    {DaemonState::kStopped, "stopped"},
}};
inline std::string_view DaemonStateName(DaemonState s) { return NameOf(kDaemonStateNames, s); }
inline std::optional<DaemonState> ParseDaemonState(std::string_view name) {
  return ValueOf(kDaemonStateNames, name);
}

struct PollStatus {
  std::optional<WallTime> time;     // per poll
  bool ok = false;                  // no monitor failed
  std::vector<std::string> errors;  // one per failed monitor (valid UTF-8)
  std::vector<Notice> notices;      // as seen in that poll
};

struct DaemonStatus {
  long pid = 0;
  DaemonState state = DaemonState::kRunning;
  std::string provider;  // "aws", "alibaba"
  std::string watching;  // Provider::Describe()
  std::string config;    // config file path
  std::optional<Identity> identity;
  std::optional<WallTime> updated;       // per poll
  std::optional<uint64_t> polls;         // per poll
  std::optional<uint64_t> poll_errors;   // per poll
  std::optional<PollStatus> last_poll;   // none before the first poll
  std::optional<WallTime> last_success;  // per poll
  std::optional<int64_t> clock_skew_ms;  // none while the local clock is used
  size_t running_hooks = 0;
  HandlerStatus handler;

  // A copy with the per-poll fields cleared: equal keys need no rewrite within kStatusRefresh.
  DaemonStatus WithoutPerPollFields() const;
};

// The JSON object; `pretty`: indented by 2 with a final newline, as the file is written.
// Foreign bytes that are not UTF-8 become U+FFFD: the dump never throws.
std::string DaemonStatusToJson(const DaemonStatus& status, bool pretty);
// Reads what DaemonStatusToJson wrote; a DataLoss naming the field otherwise.
Result<DaemonStatus> DaemonStatusFromJson(std::string_view text);

}  // namespace lastcall
