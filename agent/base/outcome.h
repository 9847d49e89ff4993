// How a hook run and a phase ended: the two outcome types of the agent, with their one
// spelling each.
//
// A HookResult is what one hook run came to; a PhaseResult what a phase (all hooks of one
// phase, for one notice) came to. Their names (HookResultName, PhaseResultName) are the only
// spellings used in logs, the `result` label of lastcall_hook_runs_total, the state files,
// status.json and the CLI (docs/lastcalld.md, docs/hooks.md). A phase that is still running,
// or was cut off by the daemon stopping, has no PhaseResult (std::nullopt), never a made-up one.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "common/enum_names.h"

namespace lastcall {

enum class HookResult {
  kOk,           // exited 0
  kFailed,       // exited non-zero, or ended by a signal it did not get from us
  kTimeout,      // its timeout ran out: its group got SIGTERM (and SIGKILL after the grace)
  kStartFailed,  // it could not be started (missing file, spawn error)
  kAborted,      // the daemon stopped it on shutdown, or it never got a slot before that
  kSkipped,      // not started: the deadline had passed
};

inline constexpr EnumNames<HookResult, 6> kHookResultNames = {{
    {HookResult::kOk, "ok"},
    {HookResult::kFailed, "failed"},
    {HookResult::kTimeout, "timeout"},
    {HookResult::kStartFailed, "start_failed"},
    {HookResult::kAborted, "aborted"},
    {HookResult::kSkipped, "skipped"},
}};

inline std::string_view HookResultName(HookResult r) { return NameOf(kHookResultNames, r); }
inline std::optional<HookResult> ParseHookResult(std::string_view name) {
  return ValueOf(kHookResultNames, name);
}

enum class PhaseResult {
  kOk,           // every hook of the phase ended ok (or the phase was adopted from a run that did)
  kFailed,       // a hook failed or did not start (and none timed out)
  kTimeout,      // a hook timed out
  kSkipped,      // the deadline had passed before the phase (or one of its hooks) could run
  kInterrupted,  // the notice was withdrawn or canceled mid-phase: later hooks not started
};

inline constexpr EnumNames<PhaseResult, 5> kPhaseResultNames = {{
    {PhaseResult::kOk, "ok"},
    {PhaseResult::kFailed, "failed"},
    {PhaseResult::kTimeout, "timeout"},
    {PhaseResult::kSkipped, "skipped"},
    {PhaseResult::kInterrupted, "interrupted"},
}};

inline std::string_view PhaseResultName(PhaseResult r) { return NameOf(kPhaseResultNames, r); }
inline std::optional<PhaseResult> ParsePhaseResult(std::string_view name) {
  return ValueOf(kPhaseResultNames, name);
}

// What the hook results of one phase come to: timeout over failed (a start failure counts as
// failed) over skipped over ok. Aborted results do not count (the caller stops first).
class PhaseResultBuilder {
 public:
  void Add(HookResult r) {
    timed_out_ |= r == HookResult::kTimeout;
    failed_ |= r == HookResult::kFailed || r == HookResult::kStartFailed;
    skipped_ |= r == HookResult::kSkipped;
  }
  PhaseResult result() const {
    if (timed_out_) return PhaseResult::kTimeout;
    if (failed_) return PhaseResult::kFailed;
    if (skipped_) return PhaseResult::kSkipped;
    return PhaseResult::kOk;
  }

 private:
  bool timed_out_ = false, failed_ = false, skipped_ = false;
};

}  // namespace lastcall
