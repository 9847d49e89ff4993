#include "agent/base/notice.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace lastcall {
namespace {

TEST(NoticeId, IsTheCloudsEventNotItsTimes) {
  EXPECT_EQ(MakeNoticeId("aws", NoticeKind::kInterruption, ""), "aws-interruption");
  EXPECT_EQ(MakeNoticeId("alibaba", NoticeKind::kRelease, ""), "alibaba-release");
  EXPECT_EQ(MakeNoticeId("aws", NoticeKind::kMaintenance, "instance-event-0d59937288b749b32"),
            "aws-maintenance-instance-event-0d59937288b749b32");
}

// Regression (issue 11 item 4): "e/1" and "e1" were one id, and a 300-character EventId made a
// file name too long to save.
TEST(NoticeId, IsInjectiveAndABoundedSafeFileName) {
  const std::string a = MakeNoticeId("aws", NoticeKind::kMaintenance, "e/1");
  const std::string b = MakeNoticeId("aws", NoticeKind::kMaintenance, "e1");
  EXPECT_NE(a, b);
  EXPECT_EQ(b, "aws-maintenance-e1");
  EXPECT_EQ(a.find('/'), std::string::npos);
  const std::string long_id = MakeNoticeId("aws", NoticeKind::kMaintenance, std::string(300, 'e'));
  EXPECT_LE(long_id.size(), 64u);
  EXPECT_NE(long_id, MakeNoticeId("aws", NoticeKind::kMaintenance, std::string(301, 'e')));
  // A verbatim id that looks like a hash cannot meet a hashed one: '~' is never verbatim.
  EXPECT_NE(MakeNoticeId("aws", NoticeKind::kMaintenance, "~" + a.substr(a.find('~') + 1)), a);
  for (std::string_view hostile : {"../etc", "..", ".", "a\nb", "\xff", "-x", "a b"}) {
    const std::string id = MakeNoticeId("aws", NoticeKind::kMaintenance, hostile);
    EXPECT_EQ(id.find('/'), std::string::npos) << id;
    EXPECT_EQ(id.find(".."), std::string::npos) << id;
    EXPECT_NE(id.find('~'), std::string::npos) << hostile;
  }
}

TEST(NoticeTerms, IgnoreRawAndNoticeTime) {
  Notice a;
  a.deadline = *ParseRfc3339("2017-09-18T08:22:00Z");
  Notice b = a;
  b.raw = "other bytes";
  b.notice_time = *ParseRfc3339("2017-09-18T08:20:00Z");
  EXPECT_TRUE(SameTerms(a, b));
  b.deadline = *ParseRfc3339("2017-09-18T08:22:01Z");
  EXPECT_FALSE(SameTerms(a, b));
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
