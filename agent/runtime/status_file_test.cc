#include "agent/runtime/status_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace lastcall {
namespace {

using ::testing::HasSubstr;

DaemonStatus Sample() {
  DaemonStatus s;
  s.pid = 4242;
  s.provider = "aws";
  s.watching = "aws IMDSv2 at http://127.0.0.1:1";
  s.config = "/etc/lastcall/lastcalld.toml";
  s.identity = Identity{"i-0abc", "m5.large", "us-east-1a", "us-east-1", "aws"};
  const WallTime t = *ParseRfc3339("2026-11-23T16:00:00Z");
  s.updated = t;
  s.polls = 12;
  s.poll_errors = 1;
  PollStatus& p = s.last_poll.emplace();
  p.time = t;
  p.ok = false;
  p.errors = {"spot/instance-action: timeout"};
  Notice n;
  n.id = "aws-interruption-i-0abc-x";
  n.provider = "aws";
  n.action = "terminate";
  n.source = "spot/instance-action";
  n.raw = R"({"action":"terminate"})";
  n.deadline = t + std::chrono::minutes(2);
  p.notices.push_back(n);
  s.last_success = t;
  s.clock_skew_ms = -2500;
  s.running_hooks = 1;
  s.handler.clock_checked = true;
  return s;
}

TEST(DaemonStatus, JsonReadsBackToTheSameValue) {
  const DaemonStatus s = Sample();
  for (bool pretty : {false, true}) {
    Result<DaemonStatus> back = DaemonStatusFromJson(DaemonStatusToJson(s, pretty));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(DaemonStatusToJson(*back, false), DaemonStatusToJson(s, false));
    EXPECT_EQ(back->state, DaemonState::kRunning);
    EXPECT_EQ(back->last_poll->notices, s.last_poll->notices);
    EXPECT_EQ(back->identity, s.identity);
    EXPECT_EQ(back->handler, s.handler);
  }
}

TEST(DaemonStatus, KeepsTheDocumentedFieldsAndSpellings) {
  auto j = nlohmann::json::parse(DaemonStatusToJson(Sample(), true));
  for (const char* key :
       {"pid", "state", "provider", "watching", "config", "identity", "updated", "polls",
        "poll_errors", "last_poll", "last_success", "clock_skew_ms", "running_hooks", "handler"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["last_poll"]["ok"], false);
  EXPECT_EQ(j["last_poll"]["notices"][0]["deadline"], "2026-11-23T16:02:00Z");
  EXPECT_EQ(j["clock_skew_ms"], -2500);
  DaemonStatus stopped = Sample();
  stopped.state = DaemonState::kStopped;
  EXPECT_EQ(nlohmann::json::parse(DaemonStatusToJson(stopped, false))["state"], "stopped");
}

TEST(DaemonStatus, TheChangeKeyLeavesOutOnlyThePerPollFields) {
  DaemonStatus a = Sample();
  DaemonStatus b = Sample();
  b.polls = 13;
  b.updated = *b.updated + std::chrono::seconds(2);
  b.last_poll->time = b.updated;
  b.last_success = b.updated;
  EXPECT_EQ(DaemonStatusToJson(a.WithoutPerPollFields(), false),
            DaemonStatusToJson(b.WithoutPerPollFields(), false));
  b.running_hooks = 0;
  EXPECT_NE(DaemonStatusToJson(a.WithoutPerPollFields(), false),
            DaemonStatusToJson(b.WithoutPerPollFields(), false));
  auto key = nlohmann::json::parse(DaemonStatusToJson(a.WithoutPerPollFields(), false));
  EXPECT_TRUE(key["polls"].is_null());
  EXPECT_TRUE(key["last_poll"]["time"].is_null());
}

TEST(DaemonStatus, ForeignBytesDoNotThrowAndBadFilesNameTheField) {
  DaemonStatus s = Sample();
  s.last_poll->notices[0].raw = "\xff\xfe";
  auto j = nlohmann::json::parse(DaemonStatusToJson(s, false));  // U+FFFD, valid JSON
  j["state"] = "exploded";
  Result<DaemonStatus> r = DaemonStatusFromJson(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("status.state"));
  EXPECT_FALSE(DaemonStatusFromJson("{not json").ok());
  EXPECT_FALSE(DaemonStatusFromJson(R"({"state":"running"})").ok());
}

}  // namespace
}  // namespace lastcall
