#include "agent/actions/notice_handler_impl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "agent/testing/actions_test_support.h"
#include "common/time_format.h"
#include "tests/support/files.h"
#include "tests/support/wait.h"

namespace lastcall {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FileExists;
using testing::Lines;
using testing::LogEntry;
using testing::MakeDir;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitFor;
using testing::WriteScript;

constexpr Duration kWait = seconds(20);

// Hooks append "<phase> <hook> <notice id>" to one journal file, so tests can check what ran,
// in which order and how often.
class NoticeHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.state_dir = tmp_ / "state";
    config_.hooks.hooks_dir = tmp_ / "hooks.d";
    config_.hooks.kill_grace = std::chrono::milliseconds(200);
    // Most tests are about what follows a withdrawal: one clean poll without the notice is
    // enough here. The withdrawal window has its own tests (WithdrawalWindow*).
    config_.poll.withdraw_polls = 1;
    config_.poll.withdraw_after = Duration::zero();
    for (const char* phase : {"checkpoint", "drain", "notify", "resume"}) {
      MakeDir(tmp_ / (std::string("hooks.d/") + phase));
    }
    AddHook("checkpoint", "10-save");
    AddHook("drain", "10-drain");
    AddHook("notify", "10-page");
    AddHook("resume", "10-undo");
  }

  void AddHook(const std::string& phase, const std::string& name, const std::string& extra = "") {
    WriteScript(tmp_ / ("hooks.d/" + phase + "/" + name),
                "echo \"$LASTCALL_PHASE " + name +
                    " $LASTCALL_NOTICE_ID $LASTCALL_INSTANCE_ID\" >> " + Journal() + "\n" + extra);
  }
  // A hook that writes <name>.started, then waits until <name>.release exists. It gives up
  // after about 15 s, so even a test that crashes leaves no hook behind for long.
  void AddBlockingHook(const std::string& phase, const std::string& name) {
    AddHook(phase, name,
            "touch " + tmp_ / (name + ".started") + "\nn=0; while [ ! -e " +
                tmp_ / (name + ".release") +
                " ] && [ $n -lt 750 ]; do n=$((n+1)); sleep 0.02; done");
  }
  void Release(const std::string& name) { testing::WriteFile(tmp_ / (name + ".release"), ""); }
  bool Started(const std::string& name) { return FileExists(tmp_ / (name + ".started")); }

  std::string Journal() { return tmp_ / "journal.txt"; }
  std::vector<std::string> Ran() { return Lines(ReadFile(Journal())); }

  // `run_hook`: a stand-in for the hook processes (testing::BlockingHookRunner); empty = real.
  std::unique_ptr<NoticeHandlerImpl> NewHandler(
      std::function<HookRun(const HookRunRequest&)> run_hook = {}) {
    NoticeHandlerImpl::Options options;
    options.allowed_owners = {0, ::getuid()};
    options.run_hook = std::move(run_hook);
    auto h = NoticeHandlerImpl::Create(config_, clock_, &metrics_, options);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    (*h)->SetIdentity({"i-0abc1234", "m5.large", "us-east-1a", "us-east-1", "aws"});
    return std::move(h).value();
  }

  Notice Interruption(Duration in) {
    Notice n;
    n.id = "aws-interruption";
    n.provider = "aws";
    n.kind = NoticeKind::kInterruption;
    n.action = "terminate";
    n.deadline = clock_.Now() + in;
    n.source = "spot/instance-action";
    return n;
  }
  Notice Maintenance(Duration in) {
    Notice n = Interruption(in);
    n.event_id = "instance-event-1";
    n.id = MakeNoticeId("aws", NoticeKind::kMaintenance, n.event_id);
    n.kind = NoticeKind::kMaintenance;
    n.action = "system-reboot";
    n.source = "events/maintenance/scheduled";
    return n;
  }
  // `count` maintenance notices of distinct events, `in` ahead.
  std::vector<Notice> ManyMaintenances(int count, Duration in) {
    std::vector<Notice> notices;
    for (int i = 0; i < count; ++i) {
      Notice n = Maintenance(in);
      n.event_id = "instance-event-" + std::to_string(i);
      n.id = MakeNoticeId("aws", NoticeKind::kMaintenance, n.event_id);
      notices.push_back(std::move(n));
    }
    return notices;
  }
  // A clean poll whose answers carried the server's Date (the clock is checked).
  PollResult Poll(std::vector<Notice> notices) {
    return PollResult{std::move(notices), {}, clock_.Now()};
  }

  std::string Line(const std::string& phase, const std::string& hook, const Notice& n) {
    return phase + " " + hook + " " + n.id + " i-0abc1234";
  }

  TempDir tmp_;
  testing::ScopedLogCapture logs_;
  FakeClock clock_;
  Metrics metrics_;
  Config config_;
};

TEST_F(NoticeHandlerTest, RunsCheckpointThenDrainAndNotifyOnce) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  h->Update(Poll({n}), clock_.Now() + seconds(2));
  ASSERT_TRUE(h->WaitIdle(kWait));

  std::vector<std::string> ran = Ran();
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_THAT(ran, ::testing::Contains(Line("notify", "10-page", n)));
  ran.erase(std::find(ran.begin(), ran.end(), Line("notify", "10-page", n)));
  EXPECT_THAT(ran, ElementsAre(Line("checkpoint", "10-save", n), Line("drain", "10-drain", n)));

  EXPECT_EQ(metrics_.Value("lastcall_notices_total", {{"kind", "interruption"}}), 1);
  EXPECT_EQ(metrics_.Value("lastcall_notice_lead_seconds", {{"kind", "interruption"}}), 120);
  EXPECT_EQ(metrics_.Value("lastcall_hook_runs_total", {{"phase", "checkpoint"}, {"result", "ok"}}),
            1);
  EXPECT_EQ(metrics_.Value("lastcall_hook_runs_total", {{"phase", "drain"}, {"result", "ok"}}), 1);
  EXPECT_EQ(metrics_.Value("lastcall_hook_runs_total", {{"phase", "notify"}, {"result", "ok"}}), 1);
  EXPECT_NE(
      metrics_.RenderPrometheus().find("lastcall_hook_duration_seconds_count{phase=\"drain\"} 1"),
      std::string::npos);

  auto status = nlohmann::json::parse(h->StatusJson());
  ASSERT_EQ(status["notices"].size(), 1u);
  EXPECT_EQ(status["notices"][0]["phases"]["drain"]["result"], "ok");
  EXPECT_EQ(status["notices"][0]["finished"], true);
  EXPECT_EQ(status["running_hooks"], 0);
}

TEST_F(NoticeHandlerTest, ExactlyOnceAcrossARestart) {
  Notice n = Interruption(seconds(120));
  {
    auto h = NewHandler();
    h->Update(Poll({n}), clock_.Now());
    ASSERT_TRUE(h->WaitIdle(kWait));
  }
  ASSERT_EQ(Ran().size(), 3u);
  auto again = NewHandler();  // same state dir: a restarted daemon
  again->Update(Poll({n}), clock_.Now() + seconds(3));
  ASSERT_TRUE(again->WaitIdle(kWait));
  EXPECT_EQ(Ran().size(), 3u);
  EXPECT_EQ(again->RunningHooks(), 0u);
}

TEST_F(NoticeHandlerTest, UnfinishedPhaseRunsAgainAfterRestartFinishedOneDoesNot) {
  AddBlockingHook("drain", "10-drain");
  Notice n = Interruption(seconds(120));
  {
    auto h = NewHandler();
    h->Update(Poll({n}), clock_.Now());
    ASSERT_TRUE(WaitFor([&] { return Started("10-drain"); }));
    ASSERT_TRUE(WaitFor([&] {
      auto status = nlohmann::json::parse(h->StatusJson());
      return status["notices"][0]["phases"]["notify"]["result"] == "ok";
    }));
    // The daemon dies mid-drain: its state says drain started, not ended (as after kill -9).
    h->Shutdown(std::chrono::milliseconds(0));
  }
  auto state = nlohmann::json::parse(ReadFile(tmp_ / ("state/notices/" + n.id + ".json")));
  EXPECT_TRUE(state["phases"]["drain"]["ended_ms"].is_null());
  EXPECT_FALSE(state["phases"]["checkpoint"]["ended_ms"].is_null());

  Release("10-drain");
  auto again = NewHandler();
  clock_.Advance(seconds(5));
  again->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(again->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("checkpoint", "10-save", n)), 1);
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("drain", "10-drain", n)), 2);
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("notify", "10-page", n)), 1);
  auto status = nlohmann::json::parse(again->StatusJson());
  EXPECT_EQ(status["notices"][0]["phases"]["drain"]["attempts"], 2);
  EXPECT_EQ(status["notices"][0]["phases"]["drain"]["result"], "ok");
}

TEST_F(NoticeHandlerTest, UpdateReturnsWhileHooksRun) {
  AddBlockingHook("checkpoint", "10-save");
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());  // returns at once although the hook blocks
  ASSERT_TRUE(WaitFor([&] { return Started("10-save"); }));
  EXPECT_TRUE(WaitFor([&] { return h->RunningHooks() >= 1; }));
  for (int i = 1; i <= 3; ++i) h->Update(Poll({n}), clock_.Now() + seconds(i));  // polling goes on
  auto status = nlohmann::json::parse(h->StatusJson());
  EXPECT_THAT(status["notices"][0]["running_hooks"], ::testing::Contains("10-save"));
  Release("10-save");
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_EQ(h->RunningHooks(), 0u);
  EXPECT_THAT(Ran(), ::testing::Contains(Line("drain", "10-drain", n)));
}

TEST_F(NoticeHandlerTest, WithdrawnMidDrainFinishesTheHookThenResumes) {
  AddBlockingHook("drain", "10-drain");
  AddHook("drain", "20-drain-more");
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(WaitFor([&] { return Started("10-drain"); }));
  clock_.Advance(seconds(10));
  h->Update(Poll({}), clock_.Now());  // clean poll without the notice: withdrawn
  Release("10-drain");
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_THAT(ran, ::testing::Contains(Line("drain", "10-drain", n)));
  EXPECT_THAT(ran, ::testing::Not(::testing::Contains(Line("drain", "20-drain-more", n))));
  EXPECT_EQ(ran.back(), Line("resume", "10-undo", n));
  auto status = nlohmann::json::parse(h->StatusJson());
  EXPECT_EQ(status["notices"][0]["phases"]["drain"]["result"], "interrupted");
  EXPECT_EQ(status["notices"][0]["phases"]["resume"]["result"], "ok");
  // Resume runs once, also when later polls keep not showing the notice.
  h->Update(Poll({}), clock_.Now() + seconds(2));
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_EQ(Ran().size(), ran.size());
}

TEST_F(NoticeHandlerTest, NoticeBackBeforeResumeStartedCarriesOn) {
  AddBlockingHook("drain", "10-drain");
  AddHook("drain", "20-drain-more");
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(WaitFor([&] { return Started("10-drain"); }));
  h->Update(Poll({}), clock_.Now() + seconds(2));   // flaps away ...
  h->Update(Poll({n}), clock_.Now() + seconds(4));  // ... and back while drain still runs
  Release("10-drain");
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_THAT(ran, ::testing::Contains(Line("drain", "20-drain-more", n)));
  EXPECT_THAT(ran, ::testing::Not(::testing::Contains(Line("resume", "10-undo", n))));
  EXPECT_EQ(logs_.sink().Find("notice is back after being withdrawn").size(), 1u);
}

TEST_F(NoticeHandlerTest, RebalanceVanishingWithTheInterruptionAfterItIsSupersededNotResumed) {
  auto h = NewHandler();
  Notice rebalance = Interruption(seconds(0));
  rebalance.id = "aws-rebalance";
  rebalance.kind = NoticeKind::kRebalance;
  rebalance.action = "rebalance";
  rebalance.deadline.reset();
  rebalance.source = "events/recommendations/rebalance";
  h->Update(Poll({rebalance}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  clock_.Advance(seconds(30));
  Notice n = Interruption(seconds(120));
  h->Update(Poll({rebalance, n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  // Terminated at the deadline: the metadata service answers 404 for both.
  clock_.Advance(seconds(121));
  h->Update(Poll({}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  h->Update(Poll({}), clock_.Now() + seconds(2));
  ASSERT_TRUE(h->WaitIdle(kWait));

  std::vector<std::string> ran = Ran();
  EXPECT_THAT(ran, ::testing::Contains(Line("checkpoint", "10-save", rebalance)));
  EXPECT_THAT(ran, ::testing::Contains(Line("drain", "10-drain", n)));
  EXPECT_THAT(ran, ::testing::Not(::testing::Contains(Line("resume", "10-undo", rebalance))));
  EXPECT_THAT(ran, ::testing::Not(::testing::Contains(Line("resume", "10-undo", n))));
  EXPECT_EQ(logs_.sink().Find("superseded by " + n.id).size(), 1u);
  std::vector<LogEntry> gone = logs_.sink().Find("notice gone after its deadline");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].Field("NOTICE_ID"), n.id);
  std::vector<LogEntry> withdrawn = logs_.sink().Find("notice withdrawn");
  ASSERT_EQ(withdrawn.size(), 1u);  // the rebalance, which has no deadline
  EXPECT_EQ(withdrawn[0].Field("NOTICE_ID"), rebalance.id);
  auto status = nlohmann::json::parse(h->StatusJson());
  for (const auto& entry : status["notices"]) {
    EXPECT_EQ(entry["finished"], true) << entry.dump();
    if (entry["id"] == rebalance.id) {
      EXPECT_EQ(entry["plan"], "superseded by " + n.id + ": no resume");
    }
  }
  // Kept across a restart: the mark is on disk.
  h.reset();
  auto again = NewHandler();
  again->Update(Poll({}), clock_.Now() + seconds(4));
  ASSERT_TRUE(again->WaitIdle(kWait));
  EXPECT_EQ(Ran().size(), ran.size());
}

TEST_F(NoticeHandlerTest, RebalanceVanishingWhenTheInterruptionIsTakenBackIsResumed) {
  auto h = NewHandler();
  Notice rebalance = Interruption(seconds(0));
  rebalance.id = "aws-rebalance";
  rebalance.kind = NoticeKind::kRebalance;
  rebalance.deadline.reset();
  h->Update(Poll({rebalance}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  clock_.Advance(seconds(10));
  Notice n = Interruption(seconds(120));
  h->Update(Poll({rebalance, n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  // Both vanish well before the interruption's deadline: the instance stays, both resume.
  clock_.Advance(seconds(10));
  h->Update(Poll({}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_THAT(ran, ::testing::Contains(Line("resume", "10-undo", rebalance)));
  EXPECT_THAT(ran, ::testing::Contains(Line("resume", "10-undo", n)));
  EXPECT_TRUE(logs_.sink().Find("superseded by").empty());
}

TEST_F(NoticeHandlerTest, FailedPollDoesNotWithdraw) {
  AddBlockingHook("checkpoint", "10-save");
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(WaitFor([&] { return Started("10-save"); }));
  PollResult failed;
  failed.errors.push_back(Unavailable("spot/instance-action: HTTP 500"));
  h->Update(failed, clock_.Now() + seconds(2));
  Release("10-save");
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_THAT(ran, ::testing::Contains(Line("drain", "10-drain", n)));
  EXPECT_THAT(ran, ::testing::Not(::testing::Contains(Line("resume", "10-undo", n))));
}

TEST_F(NoticeHandlerTest, WithdrawnBeforeAnythingStartedIsNotResumed) {
  config_.hooks.policies[NoticeKind::kMaintenance].lead = minutes(10);
  auto h = NewHandler();
  Notice n = Maintenance(std::chrono::hours(3));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  h->Update(Poll({}), clock_.Now() + seconds(2));
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ElementsAre(Line("notify", "10-page", n)));
}

TEST_F(NoticeHandlerTest, CanceledMaintenanceRunsResume) {
  auto h = NewHandler();
  Notice n = Maintenance(minutes(5));  // inside the 10 minute lead: runs at once
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  clock_.Advance(minutes(1));
  n.state = NoticeState::kCanceled;
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_EQ(ran.size(), 4u);
  EXPECT_EQ(ran.back(), Line("resume", "10-undo", n));
}

TEST_F(NoticeHandlerTest, CompletedMaintenanceDoesNotResume) {
  auto h = NewHandler();
  Notice n = Maintenance(minutes(5));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  clock_.Advance(minutes(10));
  n.state = NoticeState::kCompleted;
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ::testing::Not(::testing::Contains(Line("resume", "10-undo", n))));
}

TEST_F(NoticeHandlerTest, MaintenancePhasesStartAtLeadTime) {
  auto h = NewHandler();
  Notice n = Maintenance(std::chrono::hours(1));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ElementsAre(Line("notify", "10-page", n)));
  clock_.Advance(minutes(49));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_EQ(Ran().size(), 1u);
  clock_.Advance(minutes(1));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ElementsAre(Line("notify", "10-page", n), Line("checkpoint", "10-save", n),
                                 Line("drain", "10-drain", n)));
}

TEST_F(NoticeHandlerTest, DeadlineAlreadyPassedOnlyNotifies) {
  auto h = NewHandler();
  Notice n = Interruption(-seconds(1));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ElementsAre(Line("notify", "10-page", n)));
  auto status = nlohmann::json::parse(h->StatusJson());
  EXPECT_EQ(status["notices"][0]["phases"]["checkpoint"]["result"], "skipped");
  EXPECT_EQ(status["notices"][0]["phases"]["drain"]["result"], "skipped");
  EXPECT_EQ(
      metrics_.Value("lastcall_hook_runs_total", {{"phase", "checkpoint"}, {"result", "skipped"}}),
      1);
}

TEST_F(NoticeHandlerTest, EffectiveNowFromTheServerDecides) {
  // The local clock says plenty of time; the metadata server's clock says the deadline passed.
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now() + seconds(300));
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ElementsAre(Line("notify", "10-page", n)));
}

TEST_F(NoticeHandlerTest, FailingHookIsRecordedAndTheNextPhaseStillRuns) {
  AddHook("checkpoint", "10-save", "exit 4");
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ::testing::Contains(Line("drain", "10-drain", n)));
  EXPECT_EQ(
      metrics_.Value("lastcall_hook_runs_total", {{"phase", "checkpoint"}, {"result", "failed"}}),
      1);
  auto status = nlohmann::json::parse(h->StatusJson());
  EXPECT_EQ(status["notices"][0]["phases"]["checkpoint"]["result"], "failed");
}

TEST_F(NoticeHandlerTest, SimulateWithAThrowawayStateDir) {
  // What `lastcalld simulate` does: a handler on a fresh state dir, a made-up notice.
  TempDir throwaway;
  config_.state_dir = throwaway.path();
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  n.id = "simulated-interruption";
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_EQ(Ran().size(), 3u);
  EXPECT_TRUE(FileExists(throwaway / "notices/simulated-interruption.json"));
}

TEST_F(NoticeHandlerTest, ReconfigurePicksUpNewHooksForNewNotices) {
  auto h = NewHandler();
  HookSpec spec;
  spec.name = "05-from-config";
  spec.phase = HookPhase::kCheckpoint;
  spec.command = {"/bin/sh", "-c", "echo \"config $LASTCALL_NOTICE_ID\" >> " + Journal()};
  Config next = config_;
  next.hook_specs = {spec};
  h->Reconfigure(next);
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ::testing::Contains("config " + n.id));
}

TEST_F(NoticeHandlerTest, ShutdownStopsHooksAfterGrace) {
  AddBlockingHook("checkpoint", "10-save");
  auto h = NewHandler();
  h->Update(Poll({Interruption(seconds(120))}), clock_.Now());
  ASSERT_TRUE(WaitFor([&] { return Started("10-save"); }));
  h->Shutdown(std::chrono::milliseconds(50));
  EXPECT_EQ(h->RunningHooks(), 0u);
  EXPECT_EQ(logs_.sink().Find("hooks still running at shutdown").size(), 1u);
  h->Update(Poll({Interruption(seconds(120))}), clock_.Now());  // ignored after shutdown
  EXPECT_EQ(h->RunningHooks(), 0u);
}

// With the default window (3 clean polls and 6 s), a flap never withdraws.
class WithdrawalWindowTest : public NoticeHandlerTest {
 protected:
  void SetUp() override {
    NoticeHandlerTest::SetUp();
    config_.poll = PollOptions{};
  }
};

// Regression (issue 10, cause 2): a `flap` (200, then 404) started resume after one clean poll
// without the notice, and the returning notice's drain never ran.
TEST_F(WithdrawalWindowTest, AFlappingNoticeIsNeverWithdrawnAndItsDrainRuns) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  for (int i = 0; i < 10; ++i) {
    h->Update(Poll(i % 2 == 0 ? std::vector<Notice>{n} : std::vector<Notice>{}), clock_.Now());
    clock_.Advance(seconds(2));
  }
  // The last poll of the loop missed it; one more, 10 s later: 2 polls over 12 s, not enough.
  clock_.Advance(seconds(10));
  h->Update(Poll({}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_TRUE(logs_.sink().Find("notice withdrawn").empty());
  std::vector<std::string> ran = Ran();
  EXPECT_THAT(ran, ::testing::Contains(Line("drain", "10-drain", n)));
  EXPECT_THAT(ran, ::testing::Not(::testing::Contains(Line("resume", "10-undo", n))));
}

TEST_F(WithdrawalWindowTest, FailedPollsNeitherCountNorReset) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  PollResult failed = Poll({});
  failed.errors.push_back(Unavailable("500"));
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(seconds(3));
    h->Update(Poll({}), clock_.Now());
    h->Update(failed, clock_.Now());
  }
  EXPECT_TRUE(logs_.sink().Find("notice withdrawn").empty());
  clock_.Advance(seconds(3));
  h->Update(Poll({}), clock_.Now());  // third clean poll without it, 9 s after the first
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<LogEntry> w = logs_.sink().Find("notice withdrawn");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(Ran().back(), Line("resume", "10-undo", n));
}

// A notice that returns after its resume started is a new episode: the resume undid the work,
// so checkpoint and drain run again (once), and the log says so.
TEST_F(NoticeHandlerTest, ANoticeReturningAfterItsResumeIsANewEpisode) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  clock_.Advance(seconds(2));
  h->Update(Poll({}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  ASSERT_EQ(Ran().back(), Line("resume", "10-undo", n));
  clock_.Advance(seconds(2));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  h->Update(Poll({n}), clock_.Now() + seconds(1));
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("checkpoint", "10-save", n)), 2);
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("drain", "10-drain", n)), 2);
  EXPECT_EQ(logs_.sink().Find("notice returned after it ended: episode 2").size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(h->StatusJson())["notices"][0]["episode"], 2);
}

// Regression (issue 10, cause 1): the notice's time was part of its id, so a time that moved
// on every request (amazon-ec2-metadata-mock) made 5 notices with 5 checkpoints in 4 s.
TEST_F(NoticeHandlerTest, AMovingDeadlineIsOneNoticeLoggedOncePerChange) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  for (int i = 0; i < 5; ++i) {
    Notice moved = n;
    moved.deadline = *n.deadline + seconds(i);
    moved.raw = "answer " + std::to_string(i);
    h->Update(Poll({moved}), clock_.Now());
    h->Update(Poll({moved}), clock_.Now());  // the same terms again: no log line
    ASSERT_TRUE(h->WaitIdle(kWait));
  }
  std::vector<std::string> ran = Ran();
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("checkpoint", "10-save", n)), 1);
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("drain", "10-drain", n)), 1);
  EXPECT_EQ(logs_.sink().Find("notice changed").size(), 4u);
  auto status = nlohmann::json::parse(h->StatusJson());
  ASSERT_EQ(status["notices"].size(), 1u);
  EXPECT_EQ(status["notices"][0]["deadline"], FormatRfc3339(*n.deadline + seconds(4)));
}

// Regression (issue 10, cause 3): at restart, records were pruned against the local clock
// (hours ahead of the server's), and checkpoint and drain ran again.
TEST_F(NoticeHandlerTest, NoRecordIsPrunedOrPhaseSkippedBeforeTheServersDate) {
  Notice n = Interruption(seconds(120));
  {
    auto h = NewHandler();
    h->Update(Poll({n}), clock_.Now());
    ASSERT_TRUE(h->WaitIdle(kWait));
    h->Update(Poll({n}), clock_.Now());
    ASSERT_TRUE(h->WaitIdle(kWait));
  }
  const size_t ran_before = Ran().size();
  clock_.SetWall(clock_.Now() + std::chrono::hours(24 * 30));  // the host clock jumps ahead
  auto again = NewHandler();
  PollResult no_date = Poll({n});
  no_date.server_date.reset();
  again->Update(no_date, clock_.Now());
  ASSERT_TRUE(again->WaitIdle(kWait));
  EXPECT_TRUE(logs_.sink().Find("pruned").empty());
  EXPECT_TRUE(logs_.sink().Find("skipped").empty());
  // The server's Date says the notice is current: nothing reruns, nothing is pruned.
  PollResult dated = Poll({n});
  dated.server_date = *n.deadline - seconds(100);
  again->Update(dated, *n.deadline - seconds(100));
  ASSERT_TRUE(again->WaitIdle(kWait));
  EXPECT_TRUE(logs_.sink().Find("pruned").empty());
  EXPECT_EQ(Ran().size(), ran_before);
}

TEST_F(NoticeHandlerTest, HooksWaitBoundedlyForTheServersDateAtStart) {
  config_.poll.clock_check_wait = seconds(10);
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  PollResult no_date = Poll({n});
  no_date.server_date.reset();
  h->Update(no_date, clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_TRUE(Ran().empty());   // recorded, not run yet
  clock_.Advance(seconds(11));  // no Date ever: after the wait, run anyway (never skipped)
  h->Update(no_date, clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  h->Update(no_date, clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ::testing::Contains(Line("drain", "10-drain", n)));
}

// Regression (issue 10, cause 1): a truncated instance id read after a failed poll became
// another instance. A different identity is believed only after repeated reads, and then its
// records are kept apart from the old instance's.
TEST_F(NoticeHandlerTest, ADifferentIdentityIsBelievedOnlyAfterRepeatedReadsThenKeptApart) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  h->Update(Poll({n}), clock_.Now());
  ASSERT_TRUE(h->WaitIdle(kWait));
  const Identity other{"i-0fedcba9", "m5.large", "us-east-1a", "us-east-1", "aws"};
  h->SetIdentity(other);
  EXPECT_TRUE(h->IdentityPending());
  h->SetIdentity({"i-0abc1234", "m5.large", "us-east-1a", "us-east-1", "aws"});
  EXPECT_FALSE(h->IdentityPending());
  EXPECT_EQ(nlohmann::json::parse(h->StatusJson())["notices"].size(), 1u);
  for (int i = 0; i < IdentityTracker::kConfirmReads; ++i) h->SetIdentity(other);
  EXPECT_FALSE(h->IdentityPending());
  EXPECT_TRUE(nlohmann::json::parse(h->StatusJson())["notices"].empty());
  EXPECT_TRUE(FileExists(config_.state_dir + "/instances/i-0abc1234/aws-interruption.json"));
  // A restarted agent believes the persisted owner, the new instance.
  h.reset();
  auto again = NoticeHandlerImpl::Create(config_, clock_, &metrics_, {});
  ASSERT_TRUE(again.ok());
  (*again)->SetIdentity({"i-0abc1234", "m5.large", "us-east-1a", "us-east-1", "aws"});
  EXPECT_TRUE((*again)->IdentityPending());
}

Notice Rebalance(const Notice& like) {
  Notice r = like;
  r.id = "aws-rebalance";
  r.kind = NoticeKind::kRebalance;
  r.action = "rebalance";
  r.deadline.reset();
  r.source = "events/recommendations/rebalance";
  return r;
}

// Regression (issue 10, cause 6): the rebalance recommendation and the interruption, raised
// together, each started checkpoint: the same hook twice at once, writing the same files.
TEST_F(NoticeHandlerTest, AnInterruptionDuringTheRebalancesCheckpointAdoptsIt) {
  AddBlockingHook("checkpoint", "10-save");
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  Notice rebalance = Rebalance(n);
  h->Update(Poll({rebalance}), clock_.Now());
  ASSERT_TRUE(WaitFor([&] { return Started("10-save"); }));
  h->Update(Poll({rebalance, n}), clock_.Now() + seconds(1));
  h->Update(Poll({rebalance, n}), clock_.Now() + seconds(2));
  Release("10-save");
  ASSERT_TRUE(h->WaitIdle(kWait));
  h->Update(Poll({rebalance, n}), clock_.Now() + seconds(3));
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("checkpoint", "10-save", rebalance)), 1);
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("checkpoint", "10-save", n)), 0);
  EXPECT_EQ(std::count(ran.begin(), ran.end(), Line("drain", "10-drain", n)), 1);
  EXPECT_EQ(logs_.sink().Find("phase checkpoint adopted from aws-rebalance").size(), 1u);
  auto status = nlohmann::json::parse(h->StatusJson());
  for (const auto& e : status["notices"]) {
    if (e["id"] == n.id) {
      EXPECT_EQ(e["phases"]["checkpoint"]["result"], "ok");
    }
  }
}

// Two deadlined notices of one instance (an interruption and a maintenance event): the instance
// is drained once.
TEST_F(NoticeHandlerTest, TwoNoticesOfOneInstanceDrainOnce) {
  auto h = NewHandler();
  Notice n = Interruption(seconds(120));
  Notice m = Maintenance(seconds(60));
  config_.hooks.policies[NoticeKind::kMaintenance].lead = Duration::zero();
  h = NewHandler();
  h->Update(Poll({n, m}), clock_.Now());
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(h->WaitIdle(kWait));
    h->Update(Poll({n, m}), clock_.Now() + seconds(i));
  }
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  const auto drains = std::count_if(ran.begin(), ran.end(),
                                    [](const std::string& l) { return l.rfind("drain ", 0) == 0; });
  EXPECT_EQ(drains, 1) << ::testing::PrintToString(ran);
  EXPECT_EQ(logs_.sink().Find("phase drain adopted from").size(), 1u);
}

// The same hook never runs twice at once, and hooks.max_concurrent bounds them all (issue 11
// item 5: 400 scheduled events started 400 notify hooks at once).
TEST_F(NoticeHandlerTest, TheSameHookNeverRunsTwiceAtOnceAndHooksAreBounded) {
  // Each notify run marks itself in a lock directory; a second concurrent run would fail mkdir.
  const std::string lock = tmp_ / "page.lock";
  AddHook("notify", "10-page",
          "mkdir " + lock + " || echo OVERLAP >> " + Journal() + "\nsleep 0.05\nrmdir " + lock);
  config_.hooks.max_concurrent = 2;
  config_.hooks.policies[NoticeKind::kMaintenance].lead = minutes(60);  // notify only
  auto h = NewHandler();
  std::vector<Notice> events;
  for (int i = 0; i < 12; ++i) {
    Notice m = Maintenance(minutes(120));
    m.event_id = "instance-event-" + std::to_string(i);
    m.id = MakeNoticeId("aws", NoticeKind::kMaintenance, m.event_id);
    events.push_back(m);
  }
  h->Update(Poll(events), clock_.Now());
  EXPECT_LE(h->RunningHooks(), 2u);
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> ran = Ran();
  EXPECT_EQ(std::count(ran.begin(), ran.end(), "OVERLAP"), 0);
  EXPECT_EQ(std::count_if(ran.begin(), ran.end(),
                          [](const std::string& l) { return l.rfind("notify 10-page", 0) == 0; }),
            12);
}

// A killed run's checkpoint hook: a process group of its own (a `sleep 30`), recorded as the
// running hook of `notice`'s checkpoint, started and not ended, its own timeout already over (so
// it is stopped at once). Returns the group's pid (the caller reaps it), or -1.
pid_t PlantLeftoverCheckpointHook(const Config& config, const FakeClock& clock,
                                  const Notice& notice) {
  const pid_t leftover = ::fork();
  if (leftover == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (leftover < 0) return -1;
  ::setpgid(leftover, leftover);
  if (!WaitFor([&] { return HookRunner::ProcessStartTicks(leftover) != 0; })) return -1;
  StateStore store(config.state_dir, clock);
  if (!store.Load().ok()) return -1;
  NoticeRecord r;
  r.notice = notice;
  r.first_seen = clock.Now();
  PhaseRecord& p = r.phases[HookPhase::kCheckpoint];
  p.started = clock.Now();
  p.attempts = 1;
  p.hook_process =
      HookProcessRecord{leftover, HookRunner::ProcessStartTicks(leftover), "10-save", clock.Now()};
  return store.Put(r).ok() ? leftover : -1;
}

// Regression (issue 10, cause 4): a hook of a killed agent kept running while the restarted
// agent ran the same phase again: two drains at once. The leftover group is waited for within
// its own timeout, then stopped, before the phase runs again.
TEST_F(NoticeHandlerTest, ALeftoverHookOfAKilledRunIsStoppedBeforeThePhaseRunsAgain) {
  Notice n = Interruption(seconds(120));
  const pid_t leftover = PlantLeftoverCheckpointHook(config_, clock_, n);
  ASSERT_GT(leftover, 0);
  auto h = NewHandler();
  h->Update(Poll({n}), clock_.Now());
  int status = 0;
  ASSERT_EQ(::waitpid(leftover, &status, 0), leftover);  // ended: stopped by the handler
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ::testing::Contains(Line("checkpoint", "10-save", n)));
  EXPECT_EQ(logs_.sink().Find("of a previous run").size(), 1u);
  auto st = nlohmann::json::parse(h->StatusJson());
  EXPECT_EQ(st["notices"][0]["phases"]["checkpoint"]["attempts"], 2);
}

// Regression (fault matrix, t26/t47: kill -9 mid-checkpoint): the restarted agent ran the
// checkpoint for the other notice of the instance while the killed run's checkpoint hook, recorded
// under the interruption, still ran: the same phase twice at once. Leftovers are looked for under
// every notice of the instance, not only the one about to run the phase.
TEST_F(NoticeHandlerTest, ALeftoverHookUnderAnotherNoticeIsStoppedBeforeThePhaseRunsAgain) {
  Notice interruption = Interruption(seconds(120));
  const pid_t leftover = PlantLeftoverCheckpointHook(config_, clock_, Rebalance(interruption));
  ASSERT_GT(leftover, 0);
  auto h = NewHandler();
  // Only the interruption is visible now: it claims the checkpoint the rebalance's hook held.
  h->Update(Poll({interruption}), clock_.Now());
  int status = 0;
  ASSERT_EQ(::waitpid(leftover, &status, 0), leftover);  // ended: stopped by the handler
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_THAT(Ran(), ::testing::Contains(Line("checkpoint", "10-save", interruption)));
  EXPECT_EQ(logs_.sink().Find("of a previous run").size(), 1u);
}

// Issue 11 item 5: the poll that first saw 400 notices started a thread per notice (and one
// per notice's notify run, and one per notify hook: ~1,200 threads) and took over a second.
// Now their work is queued on hooks.max_concurrent threads: with every hook slot taken by a
// hook that does not end, the poll that sees them and the polls after it return, and the
// process has the pool's threads and the writer's, not one per notice.
TEST_F(NoticeHandlerTest, ManyNoticesAtOnceStartNoThreadPerNoticeAndPollsReturnWhileHooksBlock) {
  constexpr int kNotices = 400;
  constexpr size_t kMaxConcurrent = 4;
  config_.hooks.max_concurrent = kMaxConcurrent;
  // Four notify hooks: the same hook never runs twice at once, so four can run together.
  for (const char* name : {"20-mail", "30-chat", "40-ticket"}) AddHook("notify", name);
  testing::BlockingHookRunner hooks;
  const int threads_before = testing::ThreadsInProcess();
  auto h = NewHandler(hooks.AsRunHook());
  // A day ahead: only notify is due (checkpoint and drain wait for the maintenance lead).
  const std::vector<Notice> notices = ManyMaintenances(kNotices, std::chrono::hours(24));
  h->Update(Poll(notices), clock_.Now());
  ASSERT_TRUE(hooks.WaitRunning(kMaxConcurrent));
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(seconds(1));
    h->Update(Poll(notices), clock_.Now());
  }
  EXPECT_EQ(nlohmann::json::parse(h->StatusJson())["notices"].size(), size_t{kNotices});
  // All of that returned while no hook had ended, and no more than the bound ran.
  EXPECT_EQ(hooks.finished(), 0u);
  EXPECT_EQ(hooks.running(), kMaxConcurrent);
  EXPECT_EQ(h->RunningHooks(), kMaxConcurrent);
  EXPECT_LE(testing::ThreadsInProcess() - threads_before, static_cast<int>(kMaxConcurrent) + 1);

  hooks.Release();
  ASSERT_TRUE(h->WaitIdle(kWait));
  EXPECT_EQ(hooks.gave_up(), 0u);
  EXPECT_LE(hooks.peak(), kMaxConcurrent);
  // Every notice's notify hooks ran exactly once each, and each notice recorded them.
  std::vector<std::string> calls = hooks.calls();
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls.size(), size_t{4 * kNotices});
  EXPECT_EQ(std::unique(calls.begin(), calls.end()), calls.end());
  EXPECT_EQ(metrics_.Value("lastcall_hook_runs_total", {{"phase", "notify"}, {"result", "ok"}}),
            4 * kNotices);
  const auto status = nlohmann::json::parse(h->StatusJson());  // outlives the loop
  for (const auto& n : status["notices"]) {
    EXPECT_EQ(n["phases"]["notify"]["result"], "ok") << n["id"];
  }
}

// On a bounded pool, notices whose tasks are queued behind busy threads while another notice
// runs a shared phase adopt that run when they get a thread, as notices parked behind it do:
// one checkpoint and one drain for the instance, however many notices and however few threads.
TEST_F(NoticeHandlerTest, NoticesQueuedBehindASharedPhaseOnTheBoundedPoolAdoptIt) {
  constexpr int kNotices = 30;
  config_.hooks.max_concurrent = 2;
  testing::BlockingHookRunner hooks;
  auto h = NewHandler(hooks.AsRunHook());
  // Due now (inside the maintenance lead): checkpoint and drain run.
  const std::vector<Notice> notices = ManyMaintenances(kNotices, seconds(60));
  h->Update(Poll(notices), clock_.Now());
  // Both threads hold a blocked hook (a checkpoint and a notify hook): the other notices wait
  // in the queue or parked while the checkpoint "runs".
  ASSERT_TRUE(hooks.WaitRunning(2));
  hooks.Release();
  ASSERT_TRUE(h->WaitIdle(kWait));
  std::vector<std::string> calls = hooks.calls();
  auto count = [&](const std::string& prefix) {
    return std::count_if(calls.begin(), calls.end(),
                         [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
  };
  EXPECT_EQ(count("checkpoint 10-save "), 1);
  EXPECT_EQ(count("drain 10-drain "), 1);
  EXPECT_EQ(count("notify 10-page "), kNotices);
  const auto status = nlohmann::json::parse(h->StatusJson());  // outlives the loop
  for (const auto& n : status["notices"]) {
    EXPECT_EQ(n["phases"]["checkpoint"]["result"], "ok") << n["id"];
    EXPECT_EQ(n["phases"]["drain"]["result"], "ok") << n["id"];
  }
  EXPECT_EQ(logs_.sink().Find("phase checkpoint adopted from").size(), size_t{kNotices - 1});
}

}  // namespace
}  // namespace lastcall
