// Every enum the agent names: each value has a distinct name, not "unknown", that parses back
// to it (one table per enum, common/enum_names.h). A value added to an enum but not to its
// table fails here.
#include "agent/base/outcome.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "agent/base/config.h"
#include "agent/base/identity.h"
#include "agent/base/log.h"
#include "agent/base/metric_catalog.h"
#include "agent/base/notice.h"

namespace lastcall {
namespace {

// `count` is the number of values of the enum (its last enumerator + 1): the table must name
// every one of them.
template <typename E, size_t N, typename NameFn, typename ParseFn>
void ExpectEveryValueNamedOnceAndRoundTrips(const EnumNames<E, N>& table, int count, NameFn name,
                                            ParseFn parse) {
  EXPECT_EQ(N, static_cast<size_t>(count)) << "the table does not list every value";
  std::set<std::string_view> names;
  std::set<E> values;
  for (const EnumName<E>& e : table) {
    EXPECT_NE(e.name, "unknown");
    EXPECT_FALSE(e.name.empty());
    EXPECT_TRUE(names.insert(e.name).second) << "two values named " << e.name;
    EXPECT_TRUE(values.insert(e.value).second) << e.name << ": a value listed twice";
    EXPECT_EQ(name(e.value), e.name);
    EXPECT_EQ(parse(e.name), e.value) << e.name;
  }
  EXPECT_FALSE(parse("unknown").has_value());
  EXPECT_FALSE(parse("").has_value());
}

TEST(EnumNames, HookResult) {
  ExpectEveryValueNamedOnceAndRoundTrips(kHookResultNames,
                                         static_cast<int>(HookResult::kSkipped) + 1, HookResultName,
                                         ParseHookResult);
}

TEST(EnumNames, PhaseResult) {
  ExpectEveryValueNamedOnceAndRoundTrips(kPhaseResultNames,
                                         static_cast<int>(PhaseResult::kInterrupted) + 1,
                                         PhaseResultName, ParsePhaseResult);
}

TEST(EnumNames, HookPhase) {
  ExpectEveryValueNamedOnceAndRoundTrips(kHookPhaseNames, static_cast<int>(HookPhase::kResume) + 1,
                                         HookPhaseName, ParseHookPhase);
}

TEST(EnumNames, NoticeKindAndState) {
  ExpectEveryValueNamedOnceAndRoundTrips(kNoticeKindNames,
                                         static_cast<int>(NoticeKind::kLifecycle) + 1,
                                         NoticeKindName, ParseNoticeKind);
  ExpectEveryValueNamedOnceAndRoundTrips(kNoticeStateNames,
                                         static_cast<int>(NoticeState::kCompleted) + 1,
                                         NoticeStateName, ParseNoticeState);
}

TEST(EnumNames, LogPriorityWithTheErrorAlias) {
  // kErr = 3 .. kDebug = 7: five values.
  ExpectEveryValueNamedOnceAndRoundTrips(kLogPriorityNames, 5, LogPriorityName, ParseLogLevel);
  EXPECT_EQ(ParseLogLevel("error"), LogPriority::kErr);
  EXPECT_FALSE(ParseLogLevel("INFO").has_value());
}

TEST(EnumNames, IdentityOutcome) {
  auto parse = [](std::string_view n) { return ValueOf(kIdentityOutcomeNames, n); };
  ExpectEveryValueNamedOnceAndRoundTrips(kIdentityOutcomeNames,
                                         static_cast<int>(IdentityTracker::Outcome::kSwitched) + 1,
                                         IdentityOutcomeName, parse);
}

TEST(EnumNames, HookRunMetricLabelsUseTheOneSpelling) {
  EXPECT_EQ(metric::HookRunLabels(HookPhase::kDrain, HookResult::kStartFailed),
            (MetricLabels{{"phase", "drain"}, {"result", "start_failed"}}));
}

TEST(PhaseResultBuilder, TimeoutOverFailedOverSkippedOverOk) {
  PhaseResultBuilder none;
  EXPECT_EQ(none.result(), PhaseResult::kOk);
  PhaseResultBuilder b;
  b.Add(HookResult::kOk);
  EXPECT_EQ(b.result(), PhaseResult::kOk);
  b.Add(HookResult::kSkipped);
  EXPECT_EQ(b.result(), PhaseResult::kSkipped);
  b.Add(HookResult::kStartFailed);
  EXPECT_EQ(b.result(), PhaseResult::kFailed);
  b.Add(HookResult::kTimeout);
  EXPECT_EQ(b.result(), PhaseResult::kTimeout);
  b.Add(HookResult::kFailed);
  EXPECT_EQ(b.result(), PhaseResult::kTimeout);
}

}  // namespace
}  // namespace lastcall
