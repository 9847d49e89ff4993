#include "agent/actions/handler_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lastcall {
namespace {

using ::testing::HasSubstr;

HandlerStatus Sample() {
  HandlerStatus s;
  s.running_hooks = 1;
  s.clock_checked = true;
  NoticeStatus n;
  n.id = "aws-interruption-i-1";
  n.provider = "aws";
  n.kind = NoticeKind::kInterruption;
  n.action = "terminate";
  n.deadline = WallTime(std::chrono::seconds(1893456000));
  n.first_seen = WallTime(std::chrono::seconds(1893455880));
  n.episode = 2;
  n.phases[HookPhase::kCheckpoint] = {n.first_seen, n.first_seen, PhaseResult::kTimeout, 1};
  n.phases[HookPhase::kDrain] = {n.first_seen, std::nullopt, std::nullopt, 1};
  n.running_hooks = {"50-drain"};
  n.plan = "checkpoint, drain";
  n.seconds_left = 120;
  s.notices.push_back(n);
  NoticeStatus advisory;
  advisory.id = "aws-rebalance";
  advisory.kind = NoticeKind::kRebalance;
  advisory.withdrawn = WallTime(std::chrono::seconds(1893455990));
  advisory.finished = true;
  s.notices.push_back(advisory);
  return s;
}

TEST(HandlerStatus, JsonReadsBackToTheSameValue) {
  const HandlerStatus s = Sample();
  Result<HandlerStatus> back = HandlerStatusFromJson(HandlerStatusToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
}

TEST(HandlerStatus, JsonKeepsTheDocumentedFields) {
  auto j = nlohmann::json::parse(HandlerStatusToJson(Sample()));
  const auto& n = j["notices"][0];
  EXPECT_EQ(n["phases"]["checkpoint"]["result"], "timeout");
  EXPECT_EQ(n["phases"]["drain"]["result"], "");  // started, not ended
  EXPECT_EQ(n["deadline"], "2030-01-01T00:00:00Z");
  EXPECT_EQ(n["seconds_left"], 120);
  EXPECT_FALSE(j["notices"][1].contains("seconds_left"));
  EXPECT_EQ(j["running_hooks"], 1);
  EXPECT_EQ(j["clock_checked"], true);
}

TEST(HandlerStatus, AnyPhaseFailedIsFailedOrTimeoutOnly) {
  HandlerStatus s = Sample();
  EXPECT_TRUE(s.AnyPhaseFailed());
  for (PhaseResult r : {PhaseResult::kOk, PhaseResult::kSkipped, PhaseResult::kInterrupted}) {
    s.notices[0].phases[HookPhase::kCheckpoint].result = r;
    EXPECT_FALSE(s.AnyPhaseFailed()) << PhaseResultName(r);
  }
  s.notices[0].phases[HookPhase::kDrain].result = PhaseResult::kFailed;
  EXPECT_TRUE(s.AnyPhaseFailed());
}

TEST(HandlerStatus, AnUnknownResultIsAnErrorNamingTheField) {
  auto j = nlohmann::json::parse(HandlerStatusToJson(Sample()));
  j["notices"][0]["phases"]["checkpoint"]["result"] = "exploded";
  Result<HandlerStatus> r = HandlerStatusFromJson(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("handler.notices[0].phases.checkpoint.result"));
  EXPECT_FALSE(HandlerStatusFromJson("[]").ok());
  EXPECT_FALSE(HandlerStatusFromJson("{}").ok());
}

TEST(HandlerStatus, RunningHooksMustBeAnArrayOfStrings) {
  auto j = nlohmann::json::parse(HandlerStatusToJson(Sample()));
  j["notices"][0]["running_hooks"] = {"50-drain", 7};
  Result<HandlerStatus> r = HandlerStatusFromJson(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("handler.notices[0].running_hooks must hold strings"));
  j["notices"][0]["running_hooks"] = "50-drain";
  r = HandlerStatusFromJson(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("handler.notices[0].running_hooks must be an array"));
}

}  // namespace
}  // namespace lastcall
