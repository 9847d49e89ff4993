#include "agent/actions/hook_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/testing/actions_test_support.h"
#include "tests/support/files.h"

namespace lastcall {
namespace {

using ::testing::ElementsAre;
using testing::MakeDir;
using testing::TempDir;
using testing::WriteFile;
using testing::WriteScript;

std::vector<std::string> Names(const std::vector<Hook>& hooks) {
  std::vector<std::string> out;
  out.reserve(hooks.size());
  for (const Hook& h : hooks) out.push_back(h.name);
  return out;
}

class HookCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.hooks_dir = tmp_ / "hooks.d";
    MakeDir(tmp_ / "hooks.d/checkpoint");
    allowed_ = {0, ::getuid()};
  }
  std::string Phase(const std::string& name) { return tmp_ / ("hooks.d/checkpoint/" + name); }

  TempDir tmp_;
  HookOptions options_;
  std::vector<uid_t> allowed_;
  testing::ScopedLogCapture logs_;
};

TEST_F(HookCatalogTest, RunPartsOrderAndNamesMergedWithConfigHooks) {
  WriteScript(Phase("20-upload"), "true");
  WriteScript(Phase("10-save"), "true");
  WriteScript(Phase("10-save.bak"), "true");  // backup: not a run-parts name
  WriteScript(Phase("10-save~"), "true");
  WriteScript(Phase("30-old.dpkg-old"), "true");
  WriteFile(Phase("40-disabled"), "#!/bin/sh\n", 0644);  // not executable: disabled
  MakeDir(Phase("50-dir"));
  HookSpec spec;
  spec.name = "15-config";
  spec.command = {"/bin/sh", "-c", "true"};
  spec.timeout = std::chrono::seconds(7);
  spec.env = {{"A", "b"}};
  spec.source = "lastcalld.toml:3";
  HookSpec drain_only = spec;
  drain_only.name = "16-drain";
  drain_only.phase = HookPhase::kDrain;

  HookCatalog catalog(options_, {spec, drain_only}, allowed_);
  std::vector<Hook> hooks = catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kInterruption);
  EXPECT_THAT(Names(hooks), ElementsAre("10-save", "15-config", "20-upload"));
  EXPECT_THAT(hooks[0].argv, ElementsAre(Phase("10-save")));
  EXPECT_EQ(hooks[1].argv.size(), 3u);
  EXPECT_EQ(*hooks[1].timeout, std::chrono::seconds(7));
  EXPECT_EQ(hooks[1].env.at("A"), "b");
  EXPECT_EQ(hooks[1].source, "lastcalld.toml:3");
  EXPECT_THAT(Names(catalog.HooksFor(HookPhase::kDrain, NoticeKind::kInterruption)),
              ElementsAre("16-drain"));
  EXPECT_TRUE(catalog.HooksFor(HookPhase::kResume, NoticeKind::kInterruption).empty());
}

TEST_F(HookCatalogTest, ConfigHooksAreFilteredByKind) {
  HookSpec spec;
  spec.name = "only-maintenance";
  spec.command = {"/bin/true"};
  spec.kinds = {NoticeKind::kMaintenance};
  HookCatalog catalog(options_, {spec}, allowed_);
  EXPECT_TRUE(catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kInterruption).empty());
  EXPECT_THAT(Names(catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kMaintenance)),
              ElementsAre("only-maintenance"));
}

TEST_F(HookCatalogTest, WorldWritableHookIsRefusedWithAMessage) {
  WriteScript(Phase("10-ok"), "true");
  WriteScript(Phase("20-open"), "true");
  ::chmod(Phase("20-open").c_str(), 0777);
  WriteScript(Phase("30-group"), "true");
  ::chmod(Phase("30-group").c_str(), 0775);
  HookCatalog catalog(options_, {}, allowed_);
  EXPECT_THAT(Names(catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kInterruption)),
              ElementsAre("10-ok"));
  auto refused =
      logs_.sink().Find("refusing to run hook " + Phase("20-open") + " is world-writable");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].priority, LogPriority::kWarning);
  EXPECT_EQ(refused[0].Field("HOOK"), "20-open");
  EXPECT_EQ(logs_.sink().Find(Phase("30-group") + " is group-writable").size(), 1u);
}

TEST_F(HookCatalogTest, HookOwnedBySomeoneElseIsRefused) {
  WriteScript(Phase("10-mine"), "true");
  // Only a uid that owns nothing here is allowed, so our own file is "someone else's".
  HookCatalog catalog(options_, {}, {4242424});
  EXPECT_TRUE(catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kInterruption).empty());
  EXPECT_EQ(logs_.sink()
                .Find(Phase("10-mine") + " is owned by uid " + std::to_string(::getuid()) +
                      ", not by root or the allowed owner")
                .size(),
            1u);
}

TEST_F(HookCatalogTest, HookInWorldWritableDirectoryIsRefused) {
  WriteScript(Phase("10-save"), "true");
  ::chmod((tmp_ / "hooks.d/checkpoint").c_str(), 0777);
  HookCatalog catalog(options_, {}, allowed_);
  EXPECT_TRUE(catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kInterruption).empty());
  EXPECT_EQ(logs_.sink()
                .Find("is in directory " + tmp_ / "hooks.d/checkpoint" + " which is world-writable")
                .size(),
            1u);
}

TEST_F(HookCatalogTest, ConfigHookWithUntrustedProgramIsRefused) {
  WriteScript(tmp_ / "loose.sh", "true");
  ::chmod((tmp_ / "loose.sh").c_str(), 0777);
  HookSpec spec;
  spec.name = "loose";
  spec.command = {tmp_ / "loose.sh"};
  spec.source = "lastcalld.toml:9";
  HookSpec relative = spec;
  relative.name = "relative";
  relative.command = {"loose.sh"};
  HookCatalog catalog(options_, {spec, relative}, allowed_);
  EXPECT_TRUE(catalog.HooksFor(HookPhase::kCheckpoint, NoticeKind::kInterruption).empty());
  EXPECT_EQ(logs_.sink().Find("refusing to run hook \"loose\" (lastcalld.toml:9)").size(), 1u);
  EXPECT_EQ(logs_.sink().Find("command must start with an absolute path").size(), 1u);
}

TEST(HookCatalogOwners, AllowedOwnerByNameOrUid) {
  HookOptions options;
  EXPECT_THAT(*HookCatalog::AllowedOwners(options), ElementsAre(0u));
  options.allowed_owner = "root";
  EXPECT_THAT(*HookCatalog::AllowedOwners(options), ElementsAre(0u, 0u));
  options.allowed_owner = "1234";
  EXPECT_THAT(*HookCatalog::AllowedOwners(options), ElementsAre(0u, 1234u));
  options.allowed_owner = "no-such-user-lastcall";
  EXPECT_EQ(HookCatalog::AllowedOwners(options).status().message(),
            "hooks.allowed_owner: no such user \"no-such-user-lastcall\"");
}

}  // namespace
}  // namespace lastcall
