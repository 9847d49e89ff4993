// NoticeRecord: what the agent remembers about one notice, across polls and restarts.
//
// One record per notice id: the notice as last seen, when it was first seen, and per phase
// when it started, when it ended and how it went. The planner reads records; the notice
// handler updates them and the StateStore persists them as <state_dir>/notices/<id>.json.
// A phase that has `started` but no `ended` was interrupted (crash, kill -9, shutdown) and is
// run again; hooks must therefore be idempotent.
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "agent/base/config.h"
#include "agent/base/notice.h"
#include "agent/base/outcome.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

// A hook process of this phase, as last started: its process group and the kernel's start time
// of its leader (/proc/<pid>/stat field 22, so a recycled pid is not taken for it), and when
// its timeout ends (effective time). A restarted agent finds a leftover group of a killed run
// by it (see NoticeHandlerImpl, "hooks of a previous run").
struct HookProcessRecord {
  int pgid = 0;
  unsigned long long start_ticks = 0;
  std::string hook;  // the hook's name
  WallTime until{};  // started + its timeout
  friend bool operator==(const HookProcessRecord&, const HookProcessRecord&) = default;
};

struct PhaseRecord {
  std::optional<WallTime> started;
  std::optional<WallTime> ended;
  // How the phase ended (agent/outcome.h); nullopt while it has not ended. Written as its
  // PhaseResultName, "" for none.
  std::optional<PhaseResult> result;
  int attempts = 0;  // how many times the phase was started (> 1 after a crash)
  // Set while a hook of this phase runs (cleared when it ends).
  std::optional<HookProcessRecord> hook_process;
  // The phase was not run for this notice but taken over from another notice of the instance
  // that ran it (or was running it) at the same time: that notice's id.
  std::string adopted_from;

  bool done() const { return ended.has_value(); }
  friend bool operator==(const PhaseRecord&, const PhaseRecord&) = default;
};

struct NoticeRecord {
  Notice notice;                      // as last seen
  WallTime first_seen{};              // effective time of first detection
  std::optional<WallTime> withdrawn;  // when a clean poll no longer showed it
  // Set when this advisory vanished because a deadlined notice (this id) took its place: no
  // resume then (see Planner::SupersededBy). Empty otherwise.
  std::string superseded_by;
  std::map<HookPhase, PhaseRecord> phases;
  // Withdrawal evidence: since when, and in how many clean polls in a row, the notice has been
  // absent (Planner::WithdrawalDue). Reset whenever it is seen.
  std::optional<WallTime> absent_since;
  int absent_polls = 0;
  // 1 for the first time the notice is seen; +1 each time it returns after it ended (withdrawn
  // and resumed, or carried out): a new episode runs its phases again.
  int episode = 1;

  bool Started(HookPhase phase) const;
  bool Done(HookPhase phase) const;
  // Whether any of checkpoint / drain has started: only then is there something to resume.
  bool AnyWorkStarted() const;

  friend bool operator==(const NoticeRecord&, const NoticeRecord&) = default;
};

// The on-disk form (a JSON object with "version": 1; fields added later are optional, so older
// files still load). Parse errors name the field.
std::string NoticeRecordToJson(const NoticeRecord& record);
Result<NoticeRecord> NoticeRecordFromJson(std::string_view text);

}  // namespace lastcall
