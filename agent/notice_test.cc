#include "agent/notice.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace lastcall {
namespace {

TEST(NoticeId, IsReadableAndStable) {
  EXPECT_EQ(MakeNoticeId("aws", NoticeKind::kInterruption, "i-0abc", "2017-09-18T08:22:00Z"),
            "aws-interruption-i-0abc-20170918T082200Z");
  EXPECT_EQ(MakeNoticeId("aws", NoticeKind::kMaintenance, "i-0abc",
                         "instance-event-0d59937288b749b32"),
            "aws-maintenance-i-0abc-instance-event-0d59937288b749b32");
  // Nothing that could escape a state directory survives.
  EXPECT_EQ(MakeNoticeId("alibaba", NoticeKind::kRelease, "../etc", "a/b"),
            "alibaba-release-..etc-ab");
}

TEST(NoticeKind, NamesRoundTrip) {
  for (auto kind : {NoticeKind::kInterruption, NoticeKind::kRelease, NoticeKind::kRebalance,
                    NoticeKind::kMaintenance, NoticeKind::kPreempt, NoticeKind::kLifecycle}) {
    EXPECT_EQ(ParseNoticeKind(NoticeKindName(kind)), kind);
  }
  EXPECT_FALSE(ParseNoticeKind("eviction").has_value());
}

TEST(NoticeJson, CarriesDeadlineAndSurvivesBadUtf8) {
  Notice n;
  n.id = "x";
  n.provider = "aws";
  n.action = "terminate";
  n.deadline = *ParseRfc3339("2017-09-18T08:22:00Z");
  n.raw = "\xff\xfe";
  auto j = nlohmann::json::parse(NoticeToJson(n));
  EXPECT_EQ(j["deadline"], "2017-09-18T08:22:00Z");
  EXPECT_EQ(j["deadline_unix"], 1505722920);
  EXPECT_EQ(j["kind"], "interruption");
}

}  // namespace
}  // namespace lastcall
