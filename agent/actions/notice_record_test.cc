#include "agent/actions/notice_record.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

NoticeRecord Sample() {
  NoticeRecord r;
  r.notice.id = "aws-maintenance-i-1-instance-event-1";
  r.notice.provider = "aws";
  r.notice.kind = NoticeKind::kMaintenance;
  r.notice.state = NoticeState::kCanceled;
  r.notice.action = "system-reboot";
  r.notice.deadline = WallTime(std::chrono::milliseconds(1'700'000'123'456));
  r.notice.notice_time = WallTime(std::chrono::seconds(1'699'999'000));
  r.notice.source = "events/maintenance/scheduled";
  r.notice.raw = "[{\"Code\":\"system-reboot\"}]";
  r.first_seen = WallTime(std::chrono::seconds(1'699'999'999));
  r.withdrawn = WallTime(std::chrono::seconds(1'700'000'001));
  r.phases[HookPhase::kCheckpoint] = {r.first_seen, r.first_seen, PhaseResult::kOk, 1, {}, {}};
  r.phases[HookPhase::kDrain] = {r.first_seen, std::nullopt, std::nullopt, 2, {}, {}};
  return r;
}

TEST(NoticeRecord, RoundTripsThroughJson) {
  NoticeRecord r = Sample();
  auto back = NoticeRecordFromJson(NoticeRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_TRUE(back->Done(HookPhase::kCheckpoint));
  EXPECT_TRUE(back->Started(HookPhase::kDrain));
  EXPECT_FALSE(back->Done(HookPhase::kDrain));
  EXPECT_TRUE(back->AnyWorkStarted());
}

TEST(NoticeRecord, SupersededByRoundTripsAndIsOptionalOnDisk) {
  NoticeRecord r = Sample();
  std::string old_form = NoticeRecordToJson(r);
  EXPECT_EQ(old_form.find("superseded_by"), std::string::npos);
  auto back = NoticeRecordFromJson(old_form);  // a record written before the field existed
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->superseded_by, "");
  r.superseded_by = "aws-interruption-i-1-20260407T000200Z";
  back = NoticeRecordFromJson(NoticeRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(NoticeRecord, ErrorsNameTheField) {
  EXPECT_EQ(NoticeRecordFromJson("{\"version\":1}").status().message(),
            "record: missing field \"notice\"");
  std::string text = NoticeRecordToJson(Sample());
  std::string bad_kind = text;
  bad_kind.replace(bad_kind.find("\"maintenance\""), 13, "\"meteor\"");
  EXPECT_EQ(NoticeRecordFromJson(bad_kind).status().message(),
            "notice: unknown \"kind\" \"meteor\"");
  EXPECT_EQ(NoticeRecordFromJson("{\"version\":2}").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(NoticeRecordFromJson("{not json").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(NoticeRecordFromJson(text.substr(0, text.size() / 2)).status().code(),
            StatusCode::kDataLoss);
}

// Regression (issue 11, item 6): "version": 4294967297 was truncated to 1 and accepted.
TEST(NoticeRecord, VersionIsComparedExactly) {
  std::string text = NoticeRecordToJson(Sample());
  for (const char* v : {"4294967297", "18446744073709551615", "-4294967295", "1.0", "\"1\""}) {
    std::string bad = text;
    bad.replace(bad.find("\"version\": 1"), 12, std::string("\"version\": ") + v);
    auto r = NoticeRecordFromJson(bad);
    EXPECT_FALSE(r.ok()) << v;
    EXPECT_NE(r.status().message().find("unsupported \"version\""), std::string::npos)
        << r.status().message();
  }
}

// Regression (issue 11, item 3): a deadline_ms beyond what a nanosecond clock holds overflowed.
TEST(NoticeRecord, TimesOutsideTheRepresentableRangeAreRefused) {
  std::string text = NoticeRecordToJson(Sample());
  for (const char* v :
       {"9300000000000", "-9300000000000", "18446744073709551615", "9223372036854775807"}) {
    std::string bad = text;
    bad.replace(bad.find("1700000123456"), 13, v);
    auto r = NoticeRecordFromJson(bad);
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_NE(r.status().message().find("deadline_ms"), std::string::npos) << r.status().message();
  }
  std::string attempts = text;
  attempts.replace(attempts.find("\"attempts\": 2"), 13, "\"attempts\": 4294967297");
  EXPECT_FALSE(NoticeRecordFromJson(attempts).ok());
}

}  // namespace
}  // namespace lastcall
