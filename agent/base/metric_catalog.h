// The metrics lastcalld records: their names, one place for their help text, types, units and
// known labels. Call sites record by these names; DeclareLastcallMetrics puts every family and
// every known series (each notice kind, each phase and hook result) in a Metrics at 0, so that
// the first scrape already shows them. Names end in their unit (_seconds, _total), after the
// Prometheus naming conventions; help texts are one sentence, capitalised, ending in a period.
//
// Thread-safety: constants and a function of its argument.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "agent/base/config.h"
#include "agent/base/metrics.h"
#include "agent/base/outcome.h"

namespace lastcall::metric {

inline constexpr std::string_view kPolls = "lastcall_polls_total";
inline constexpr std::string_view kPollErrors = "lastcall_poll_errors_total";
inline constexpr std::string_view kLastSuccessfulPoll =
    "lastcall_last_successful_poll_timestamp_seconds";
inline constexpr std::string_view kNotices = "lastcall_notices_total";           // {kind}
inline constexpr std::string_view kNoticeLead = "lastcall_notice_lead_seconds";  // {kind}
inline constexpr std::string_view kHookRuns = "lastcall_hook_runs_total";        // {phase,result}
inline constexpr std::string_view kHookDuration = "lastcall_hook_duration_seconds";  // {phase}

// The labels of kHookRuns: the phase and the HookResult (coarse: "failed" does not say the exit
// code, so the label set stays small). Every call site builds them here.
MetricLabels HookRunLabels(HookPhase phase, HookResult result);

// Hook duration buckets, in seconds: from a quick notify (100 ms) to the longest budget a hook
// gets (a two-minute interruption notice; maintenance hooks up to hooks.default_timeout).
inline const std::vector<double> kHookDurationBuckets = {0.1, 0.25, 0.5, 1,   2.5, 5,
                                                         10,  30,   60,  120, 300};

}  // namespace lastcall::metric

namespace lastcall {

// Declares every family above, with each known series at 0.
void DeclareLastcallMetrics(Metrics& metrics);

}  // namespace lastcall
