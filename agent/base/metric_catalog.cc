#include "agent/base/metric_catalog.h"

#include <string>

#include "agent/base/config.h"
#include "agent/base/notice.h"

namespace lastcall {
namespace {

constexpr std::array kKinds = {NoticeKind::kInterruption, NoticeKind::kRelease,
                               NoticeKind::kRebalance,    NoticeKind::kMaintenance,
                               NoticeKind::kPreempt,      NoticeKind::kLifecycle};
constexpr std::array kPhases = {HookPhase::kCheckpoint, HookPhase::kDrain, HookPhase::kNotify,
                                HookPhase::kResume};

}  // namespace

void DeclareLastcallMetrics(Metrics& m) {
  std::vector<MetricLabels> kinds, phases, runs;
  for (NoticeKind k : kKinds) kinds.push_back({{"kind", std::string(NoticeKindName(k))}});
  for (HookPhase p : kPhases) {
    const std::string phase(HookPhaseName(p));
    phases.push_back({{"phase", phase}});
    for (std::string_view r : metric::kHookRunResults) {
      runs.push_back({{"phase", phase}, {"result", std::string(r)}});
    }
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
