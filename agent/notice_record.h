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

#include "agent/config.h"
#include "agent/notice.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

struct PhaseRecord {
  std::optional<WallTime> started;
  std::optional<WallTime> ended;
  // "ok", "failed" (a hook exited non-zero, was killed or did not start), "timeout",
  // "skipped" (the deadline had passed), "interrupted" (the notice was withdrawn mid-phase).
  std::string result;
  int attempts = 0;  // how many times the phase was started (> 1 after a crash)

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

  bool Started(HookPhase phase) const;
  bool Done(HookPhase phase) const;
  // Whether any of checkpoint / drain has started: only then is there something to resume.
  bool AnyWorkStarted() const;

  friend bool operator==(const NoticeRecord&, const NoticeRecord&) = default;
};

// The on-disk form (a JSON object with "version": 1). Parse errors name the field.
std::string NoticeRecordToJson(const NoticeRecord& record);
Result<NoticeRecord> NoticeRecordFromJson(std::string_view json);

}  // namespace lastcall
