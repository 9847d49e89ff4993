#include "agent/actions/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "agent/testing/actions_test_support.h"
#include "common/time_format.h"
#include "tests/support/files.h"

namespace lastcall {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// A maintenance record keyed by its event id `event`: "aws-maintenance-<event>".
NoticeRecord Record(const std::string& event, WallTime deadline) {
  NoticeRecord r;
  r.notice.kind = NoticeKind::kMaintenance;
  r.notice.event_id = event;
  r.notice.id = MakeNoticeId("aws", NoticeKind::kMaintenance, event);
  r.notice.provider = "aws";
  r.notice.action = "terminate";
  r.notice.deadline = deadline;
  r.first_seen = deadline - std::chrono::minutes(2);
  r.phases[HookPhase::kCheckpoint] = {r.first_seen, r.first_seen, PhaseResult::kOk, 1, {}, {}};
  return r;
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(StateStore, PutIsReadBackByANewStore) {
  TempDir tmp;
  FakeClock clock;
  NoticeRecord r = Record("i-1-a", clock.Now());
  {
    StateStore store(tmp.path(), clock);
    ASSERT_TRUE(store.Load().ok());
    ASSERT_TRUE(store.Put(r).ok());
    r.phases[HookPhase::kDrain] = {clock.Now(), std::nullopt, std::nullopt, 1, {}, {}};
    ASSERT_TRUE(store.Put(r).ok());  // replaces the file
  }
  // Nothing but the record itself: the temporary file was renamed into place.
  EXPECT_THAT(DirEntries(tmp / "notices"), ::testing::ElementsAre("aws-maintenance-i-1-a.json"));
  StateStore again(tmp.path(), clock);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_TRUE(again.Get(r.notice.id));
  EXPECT_EQ(*again.Get(r.notice.id), r);
  EXPECT_EQ(again.All().size(), 1u);
}

TEST(StateStore, CachedPutIsWrittenAndReadBackLikeADurableOne) {
  TempDir tmp;
  FakeClock clock;
  NoticeRecord r = Record("i-1-a", clock.Now());
  {
    StateStore store(tmp.path(), clock);
    ASSERT_TRUE(store.Load().ok());
    ASSERT_TRUE(store.Put(r, StateStore::Durability::kCached).ok());
  }
  EXPECT_THAT(DirEntries(tmp / "notices"), ::testing::ElementsAre("aws-maintenance-i-1-a.json"));
  StateStore again(tmp.path(), clock);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_TRUE(again.Get(r.notice.id));
  EXPECT_EQ(*again.Get(r.notice.id), r);
}

TEST(StateStore, LeftoverTempFileFromACrashIsIgnored) {
  TempDir tmp;
  FakeClock clock;
  NoticeRecord r = Record("i-1-a", clock.Now());
  {
    StateStore store(tmp.path(), clock);
    ASSERT_TRUE(store.Load().ok());
    ASSERT_TRUE(store.Put(r).ok());
  }
  // A crash between write and rename leaves a torn temp file next to the good record.
  WriteFile(tmp / "notices/aws-maintenance-i-1-a.json.tmp", "{\"version\":1,\"noti");
  StateStore again(tmp.path(), clock);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(*again.Get(r.notice.id), r);
}

TEST(StateStore, CorruptFileIsLoggedAndMovedAsideNotFatal) {
  TempDir tmp;
  FakeClock clock;
  testing::ScopedLogCapture logs;
  {
    StateStore store(tmp.path(), clock);
    ASSERT_TRUE(store.Load().ok());
    ASSERT_TRUE(store.Put(Record("good", clock.Now())).ok());
  }
  WriteFile(tmp / "notices/bad.json", "{\"version\":1, truncated");
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());
  EXPECT_TRUE(store.Get("aws-maintenance-good"));
  EXPECT_FALSE(store.Get("bad"));
  const std::string aside = "bad.json.corrupt-" + std::to_string(ToUnixSeconds(clock.Now()));
  EXPECT_THAT(DirEntries(tmp / "notices"),
              ::testing::ElementsAre("aws-maintenance-good.json", aside));
  auto found = logs.sink().Find("state file " + tmp.path() + "/notices/bad.json is unreadable");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].message.find("moved aside"), std::string::npos);
}

TEST(StateStore, FileHoldingAnotherIdIsMovedAside) {
  TempDir tmp;
  FakeClock clock;
  testing::ScopedLogCapture logs;
  testing::MakeDir(tmp / "notices");
  WriteFile(tmp / "notices/x.json", NoticeRecordToJson(Record("y", clock.Now())));
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());
  EXPECT_TRUE(store.All().empty());
  EXPECT_EQ(logs.sink().Find("holds notice \"aws-maintenance-y\", not \"x\"").size(), 1u);
}

TEST(StateStore, UnusableDirectoryIsAnError) {
  TempDir tmp;
  FakeClock clock;
  WriteFile(tmp / "file", "not a directory");
  StateStore store(tmp / "file", clock);
  Status s = store.Load();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(tmp / "file"), std::string::npos) << s.message();
}

TEST(StateStore, PruneRemovesRecordsLongAfterTheirDeadline) {
  TempDir tmp;
  FakeClock clock;
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(store.Put(Record("old", clock.Now() - std::chrono::hours(24 * 8))).ok());
  ASSERT_TRUE(store.Put(Record("recent", clock.Now() - std::chrono::hours(24))).ok());
  EXPECT_EQ(store.Prune(clock.Now()), 1u);
  EXPECT_FALSE(store.Get("aws-maintenance-old"));
  EXPECT_TRUE(store.Get("aws-maintenance-recent"));
  EXPECT_THAT(DirEntries(tmp / "notices"), ::testing::ElementsAre("aws-maintenance-recent.json"));
}

// Records written by agents before the notice key (issue 10): their ids carry the notice's
// time. They are re-keyed with their phases, so nothing reruns for them after an upgrade.
TEST(StateStore, OldIdSchemeRecordsAreReKeyedWithTheirPhases) {
  TempDir tmp;
  FakeClock clock;
  testing::ScopedLogCapture logs;
  testing::MakeDir(tmp / "notices");
  NoticeRecord old;
  old.notice.id = "aws-interruption-i-0abc-20170918T082200Z";
  old.notice.provider = "aws";
  old.notice.action = "terminate";
  old.notice.deadline = clock.Now();
  old.first_seen = clock.Now() - std::chrono::minutes(2);
  old.phases[HookPhase::kCheckpoint] = {
      old.first_seen, old.first_seen, PhaseResult::kOk, 1, {}, {}};
  NoticeRecord older = old;  // the same interruption, its time moved: the old scheme split it
  older.notice.id = "aws-interruption-i-0abc-20170918T082100Z";
  older.first_seen -= std::chrono::minutes(1);
  older.phases.clear();
  NoticeRecord maint = old;
  maint.notice.id = "aws-maintenance-i-0abc-instance-event-0d59";
  maint.notice.kind = NoticeKind::kMaintenance;
  maint.notice.raw = R"({"EventId":"instance-event-0d59","Code":"system-reboot"})";
  for (const NoticeRecord* r : {&old, &older, &maint}) {
    WriteFile(tmp / ("notices/" + r->notice.id + ".json"), NoticeRecordToJson(*r));
  }
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_EQ(store.All().size(), 2u);
  std::optional<NoticeRecord> got = store.Get("aws-interruption");
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->Done(HookPhase::kCheckpoint));  // the most recently first seen is kept
  ASSERT_TRUE(store.Get("aws-maintenance-instance-event-0d59"));
  EXPECT_THAT(
      DirEntries(tmp / "notices"),
      ::testing::ElementsAre("aws-interruption-i-0abc-20170918T082100Z.json.superseded",
                             "aws-interruption.json", "aws-maintenance-instance-event-0d59.json"));
  // And once re-keyed, a new store reads the same.
  StateStore again(tmp.path(), clock);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.All().size(), 2u);
}

TEST(StateStore, OwnerIsPersistedAndAnotherInstanceIsArchivedApart) {
  TempDir tmp;
  FakeClock clock;
  const Identity a{"i-0123456789abcdef0", "m5.large", "us-east-1a", "us-east-1", "aws"};
  {
    StateStore store(tmp.path(), clock);
    ASSERT_TRUE(store.Load().ok());
    Result<std::optional<Identity>> none = store.LoadOwner();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(store.SaveOwner(a).ok());
    ASSERT_TRUE(store.Put(Record("e1", clock.Now())).ok());
  }
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());
  Result<std::optional<Identity>> owner = store.LoadOwner();
  ASSERT_TRUE(owner.ok() && owner->has_value());
  EXPECT_EQ(**owner, a);
  ASSERT_TRUE(store.ArchiveAs(a.instance_id).ok());
  EXPECT_TRUE(store.All().empty());
  EXPECT_THAT(DirEntries(tmp / "notices"), ::testing::IsEmpty());
  EXPECT_THAT(DirEntries(tmp / ("instances/" + a.instance_id)),
              ::testing::ElementsAre("aws-maintenance-e1.json", "owner.identity"));
}

// Regression (issue 11, item 6): a FIFO named <id>.json blocked start-up forever (Load opened
// it blocking and waited for a writer); a symlink named like a record was followed.
TEST(StateStore, AFifoOrSymlinkNamedLikeARecordDoesNotBlockStartUp) {
  TempDir tmp;
  FakeClock clock;
  testing::ScopedLogCapture logs;
  testing::MakeDir(tmp / "notices");
  ASSERT_EQ(::mkfifo((tmp / "notices/fifo.json").c_str(), 0644), 0);
  WriteFile(tmp / "target", NoticeRecordToJson(Record("link", clock.Now())));
  ASSERT_EQ(::symlink((tmp / "target").c_str(), (tmp / "notices/link.json").c_str()), 0);
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());  // returns: the FIFO is not waited on
  EXPECT_TRUE(store.All().empty());
  EXPECT_EQ(logs.sink().Find("is a FIFO, not a regular file").size(), 1u);
  EXPECT_EQ(logs.sink().Find("is a symbolic link").size(), 1u);
}

// Regression (issue 11, item 6): a symlink planted at <id>.json.tmp was followed and its
// target overwritten by the next Put.
TEST(StateStore, SymlinkPlantedAtTheTemporaryIsNotFollowed) {
  TempDir tmp;
  FakeClock clock;
  StateStore store(tmp.path(), clock);
  ASSERT_TRUE(store.Load().ok());
  WriteFile(tmp / "victim", "precious");
  NoticeRecord r = Record("aws-interruption-i-1-a", clock.Now());
  ASSERT_EQ(::symlink((tmp / "victim").c_str(), (store.PathFor(r.notice.id) + ".tmp").c_str()), 0);
  ASSERT_TRUE(store.Put(r).ok());
  EXPECT_EQ(ReadFile(tmp / "victim"), "precious");
  StateStore again(tmp.path(), clock);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(*again.Get(r.notice.id), r);
}

}  // namespace
}  // namespace lastcall
