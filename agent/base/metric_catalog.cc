#include "agent/base/metric_catalog.h"

#include <string>

#include "agent/base/config.h"
#include "agent/base/notice.h"

namespace lastcall {

MetricLabels metric::HookRunLabels(HookPhase phase, HookResult result) {
  return {{"phase", std::string(HookPhaseName(phase))},
          {"result", std::string(HookResultName(result))}};
}

void DeclareLastcallMetrics(Metrics& m) {
  std::vector<MetricLabels> kinds, phases, runs;
  for (const auto& k : kNoticeKindNames) kinds.push_back({{"kind", std::string(k.name)}});
  for (const auto& p : kHookPhaseNames) {
    phases.push_back({{"phase", std::string(p.name)}});
    for (const auto& r : kHookResultNames) runs.push_back(metric::HookRunLabels(p.value, r.value));
  }
  m.DeclareCounter(metric::kPolls, "Metadata polls tried.");
  m.DeclareCounter(metric::kPollErrors, "Metadata polls with at least one failed monitor.");
  m.DeclareGauge(metric::kLastSuccessfulPoll, "Unix time of the last poll without errors.");
  m.DeclareCounter(metric::kNotices, "Notices detected, by kind.", kinds);
  m.DeclareGauge(metric::kNoticeLead,
                 "Seconds from detection to the deadline of the last notice of each kind.");
  m.DeclareCounter(metric::kHookRuns, "Hook runs, by phase and result.", runs);
  m.DeclareHistogram(metric::kHookDuration, "How long hooks ran, in seconds, by phase.",
                     metric::kHookDurationBuckets, phases);
}

}  // namespace lastcall
