#include "agent/runtime/cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/base/metric_catalog.h"
#include "agent/runtime/config_loader.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

using std::chrono::seconds;

Result<CliOptions> Parse(const std::vector<std::string>& args) { return ParseCommandLine(args); }

void ExpectUsageError(const std::vector<std::string>& args, const std::string& what) {
  Result<CliOptions> r = Parse(args);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("(see --help)"), std::string::npos);
}

TEST(Cli, DefaultIsRunWithTheDefaultConfig) {
  Result<CliOptions> r = Parse({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command, CliCommand::kRun);
  EXPECT_EQ(r->config_path, "/etc/lastcall/lastcalld.toml");
  EXPECT_FALSE(r->config_explicit);
  r = Parse({"run", "--config", "/x.toml"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command, CliCommand::kRun);
  EXPECT_EQ(r->config_path, "/x.toml");
  EXPECT_TRUE(r->config_explicit);
  r = Parse({"--config=/y.toml"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->config_path, "/y.toml");
  r = Parse({"-c", "/z.toml"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->config_path, "/z.toml");
}

TEST(Cli, CommandsAndTheirFlags) {
  EXPECT_EQ(Parse({"--check-config"})->command, CliCommand::kCheckConfig);
  EXPECT_TRUE(Parse({"--check-config", "--verbose"})->verbose);
  EXPECT_EQ(Parse({"--version"})->command, CliCommand::kVersion);
  EXPECT_EQ(Parse({"-h"})->command, CliCommand::kHelp);
  EXPECT_EQ(Parse({"--help"})->command, CliCommand::kHelp);
  Result<CliOptions> s = Parse({"status", "--json"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->command, CliCommand::kStatus);
  EXPECT_TRUE(s->json);
  Result<CliOptions> sim =
      Parse({"simulate", "--kind", "release", "--in=90s", "--action", "stop", "--config", "/c"});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  EXPECT_EQ(sim->command, CliCommand::kSimulate);
  EXPECT_EQ(sim->kind, NoticeKind::kRelease);
  EXPECT_EQ(sim->in, seconds(90));
  EXPECT_EQ(sim->action, "stop");
  EXPECT_EQ(sim->config_path, "/c");
  Result<CliOptions> dflt = Parse({"simulate", "--kind", "interruption"});
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->in, seconds(120));
}

TEST(Cli, BadUsageIsNamed) {
  ExpectUsageError({"--bogus"}, "unknown option \"--bogus\"");
  ExpectUsageError({"stauts"}, "unknown command \"stauts\"");
  ExpectUsageError({"--config"}, "--config needs a value");
  ExpectUsageError({"--config="}, "--config needs a file name");
  ExpectUsageError({"status", "simulate"}, "cannot be combined");
  ExpectUsageError({"--check-config", "status"}, "cannot be combined");
  ExpectUsageError({"--json"}, "--json only goes with status");
  ExpectUsageError({"--verbose"}, "--verbose only goes with --check-config");
  ExpectUsageError({"simulate"}, "simulate needs --kind");
  ExpectUsageError({"simulate", "--kind", "spot"}, "unknown notice kind \"spot\"");
  ExpectUsageError({"simulate", "--kind", "release", "--in", "120"}, "--in: expected a duration");
  ExpectUsageError({"--kind", "release"}, "only go with simulate");
}

TEST(Cli, HelpNamesEveryCommandAndExitCode) {
  std::string u = UsageText();
  for (const char* s : {"--config FILE", "--check-config", "status", "--json", "simulate", "--kind",
                        "--in", "--action", "--version", "64", "78"}) {
    EXPECT_NE(u.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(VersionText().rfind("lastcalld ", 0), 0u);
}

TEST(Cli, SimulatedNoticeHasADeadlineAndAStableShape) {
  WallTime now(seconds(1700000000));
  Notice n = MakeSimulatedNotice(NoticeKind::kInterruption, "", now, seconds(120));
  EXPECT_EQ(n.provider, "simulate");
  EXPECT_EQ(n.action, "terminate");
  ASSERT_TRUE(n.deadline.has_value());
  EXPECT_EQ(*n.deadline, now + seconds(120));
  EXPECT_EQ(n.id, "simulate-interruption");
  EXPECT_NE(n.raw.find("\"time\":\"2023-11-14T22:15:20Z\""), std::string::npos) << n.raw;
  EXPECT_EQ(MakeSimulatedNotice(NoticeKind::kRelease, "", now, seconds(1)).action, "release");
  EXPECT_EQ(MakeSimulatedNotice(NoticeKind::kRelease, "stop", now, seconds(1)).action, "stop");
  EXPECT_FALSE(MakeSimulatedNotice(NoticeKind::kRebalance, "", now, seconds(1)).deadline);
}

TEST(Cli, PrintHookRunsListsTheCountedRunsAndFlagsAnyResultButOk) {
  Metrics m;
  std::ostringstream none;
  EXPECT_FALSE(PrintHookRuns(m, none));
  EXPECT_EQ(none.str(), "");
  m.Increment(metric::kHookRuns, metric::HookRunLabels(HookPhase::kCheckpoint, HookResult::kOk));
  std::ostringstream ok;
  EXPECT_FALSE(PrintHookRuns(m, ok));
  EXPECT_EQ(ok.str(), "hook runs: {phase=\"checkpoint\",result=\"ok\"} 1\n");
  for (HookResult bad : {HookResult::kFailed, HookResult::kTimeout, HookResult::kStartFailed,
                         HookResult::kAborted, HookResult::kSkipped}) {
    Metrics one;
    one.Increment(metric::kHookRuns, metric::HookRunLabels(HookPhase::kDrain, bad), 2);
    std::ostringstream out;
    EXPECT_TRUE(PrintHookRuns(one, out)) << HookResultName(bad);
    EXPECT_EQ(out.str(), "hook runs: {phase=\"drain\",result=\"" +
                             std::string(HookResultName(bad)) + "\"} 2\n");
  }
}

class StatusCommandTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/cli-status-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    config_.runtime_dir = dir_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteStatus(const nlohmann::json& j) { std::ofstream(dir_ + "/status.json") << j.dump(); }
  int Run(bool json) {
    CliOptions o;
    o.command = CliCommand::kStatus;
    o.json = json;
    out_.str("");
    err_.str("");
    return RunStatusCommand(o, config_, out_, err_);
  }
  // What the daemon writes (DaemonStatusToJson).
  nlohmann::json Sample(long pid, DaemonState state) {
    DaemonStatus s;
    s.pid = pid;
    s.state = state;
    s.provider = "aws";
    s.watching = "aws IMDSv2 at http://127.0.0.1:1";
    s.config = "/etc/lastcall/lastcalld.toml";
    s.identity = Identity{"i-0abc", "m5.large", "us-east-1a", "us-east-1", "aws"};
    s.polls = 12;
    s.poll_errors = 1;
    const WallTime t = *ParseRfc3339("2026-11-23T16:00:00Z");
    PollStatus& p = s.last_poll.emplace();
    p.time = t;
    p.ok = true;
    Notice n;
    n.id = "aws-interruption-i-0abc-x";
    n.provider = "aws";
    n.action = "terminate";
    n.deadline = t + std::chrono::minutes(2);
    p.notices.push_back(n);
    s.last_success = t;
    s.running_hooks = 1;
    s.updated = t;
    return nlohmann::json::parse(DaemonStatusToJson(s, true));
  }
  std::string dir_;
  Config config_;
  std::ostringstream out_, err_;
};

TEST_F(StatusCommandTest, NotRunningWithoutAStatusFile) {
  EXPECT_EQ(Run(false), kExitNotRunning);
  EXPECT_NE(err_.str().find("lastcalld is not running (no " + dir_ + "/status.json"),
            std::string::npos)
      << err_.str();
}

TEST_F(StatusCommandTest, PrintsTheRunningDaemonsViewReadably) {
  WriteStatus(Sample(::getpid(), DaemonState::kRunning));
  EXPECT_EQ(Run(false), kExitOk) << err_.str();
  std::string o = out_.str();
  EXPECT_NE(o.find("lastcalld running (pid " + std::to_string(::getpid()) + ")"), std::string::npos)
      << o;
  EXPECT_NE(o.find("instance:     i-0abc (m5.large, us-east-1a, us-east-1)"), std::string::npos);
  EXPECT_NE(o.find("notice:       interruption terminate deadline 2026-11-23T16:02:00Z"),
            std::string::npos);
  EXPECT_NE(o.find("last poll:    2026-11-23T16:00:00Z ok"), std::string::npos);
}

TEST_F(StatusCommandTest, JsonIsTheRawFile) {
  WriteStatus(Sample(::getpid(), DaemonState::kRunning));
  EXPECT_EQ(Run(true), kExitOk);
  EXPECT_EQ(nlohmann::json::parse(out_.str()), Sample(::getpid(), DaemonState::kRunning));
}

TEST_F(StatusCommandTest, StoppedOrDeadDaemonIsReportedAsNotRunning) {
  WriteStatus(Sample(::getpid(), DaemonState::kStopped));
  EXPECT_EQ(Run(false), kExitNotRunning);
  EXPECT_NE(err_.str().find("is what it saw last"), std::string::npos);
  // A pid that cannot exist (above pid_max).
  WriteStatus(Sample(1 << 30, DaemonState::kRunning));
  EXPECT_EQ(Run(false), kExitNotRunning);
}

TEST_F(StatusCommandTest, GarbageStatusFileIsAClearError) {
  std::ofstream(dir_ + "/status.json") << "{not json";
  EXPECT_EQ(Run(false), kExitFailure);
  EXPECT_NE(err_.str().find("not a lastcalld status file"), std::string::npos);
}

// A handler that "runs" hooks: busy for a moment, then reports results.
// What the handler saw; outlives it (simulate destroys its handler before returning).
struct Seen {
  Identity identity;
  Notice notice;
  bool shut_down = false;
};

class ScriptedHandler : public NoticeHandler {
 public:
  ScriptedHandler(Metrics& metrics, std::string result, Seen* seen)
      : metrics_(metrics), result_(std::move(result)), seen_(seen) {}
  void SetIdentity(const Identity& id) override { seen_->identity = id; }
  void Update(const PollResult& poll, WallTime) override {
    if (poll.notices.empty() || updates_++ > 0) return;
    seen_->notice = poll.notices[0];
    metrics_.Increment("lastcall_hook_runs_total", {{"phase", "checkpoint"}, {"result", "ok"}});
    metrics_.Increment("lastcall_hook_runs_total", {{"phase", "drain"}, {"result", result_}});
  }
  void Reconfigure(const Config&) override {}
  HandlerStatus Report() const override {
    HandlerStatus s;
    if (updates_ == 0) return s;
    NoticeStatus n;
    n.id = seen_->notice.id;
    n.phases[HookPhase::kDrain].result = ParsePhaseResult(result_);
    s.notices.push_back(n);
    return s;
  }
  size_t RunningHooks() const override { return 0; }
  void Shutdown(Duration) override { seen_->shut_down = true; }

 private:
  Metrics& metrics_;
  std::string result_;
  Seen* seen_;
  int updates_ = 0;
};

TEST(SimulateCommand, RunsTheHandlerInATemporaryStateDirAndReportsResults) {
  for (const std::string result : {"ok", "failed"}) {
    Seen seen;
    bool made = false;
    std::string state_dir;
    HandlerFactory factory = [&](const Config& c, const Clock&, Metrics& m) {
      state_dir = c.state_dir;
      EXPECT_TRUE(std::filesystem::is_directory(c.state_dir));
      made = true;
      return std::make_unique<ScriptedHandler>(m, result, &seen);
    };
    CliOptions o;
    o.command = CliCommand::kSimulate;
    o.kind = NoticeKind::kInterruption;
    o.in = seconds(120);
    Config config;
    std::ostringstream out, err;
    int code = RunSimulateCommand(o, config, factory, SystemClock::Instance(), out, err);
    ASSERT_TRUE(made);
    EXPECT_EQ(seen.notice.kind, NoticeKind::kInterruption);
    EXPECT_EQ(seen.identity.instance_id, "i-simulated");
    EXPECT_TRUE(seen.shut_down);
    EXPECT_NE(state_dir, config.state_dir);
    EXPECT_FALSE(std::filesystem::exists(state_dir));  // cleaned up
    EXPECT_NE(out.str().find("hook runs: {phase=\"drain\",result=\"" + result + "\"} 1"),
              std::string::npos)
        << out.str();
    if (result == "ok") {
      EXPECT_EQ(code, kExitOk) << err.str();
      EXPECT_NE(out.str().find("all hooks succeeded"), std::string::npos);
    } else {
      EXPECT_EQ(code, kExitFailure);
      EXPECT_NE(err.str().find("a hook failed"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace lastcall

namespace lastcall {
namespace {

TEST(SimulateCommand, UsesWaitIdleWhenGiven) {
  Seen seen;
  HandlerFactory factory = [&](const Config&, const Clock&, Metrics& m) {
    return std::make_unique<ScriptedHandler>(m, "ok", &seen);
  };
  int waits = 0;
  WaitIdleFn wait = [&](NoticeHandler& h, Duration limit) {
    ++waits;
    EXPECT_GT(limit, seconds(120));
    EXPECT_EQ(h.RunningHooks(), 0u);
    return true;
  };
  CliOptions o;
  o.command = CliCommand::kSimulate;
  o.kind = NoticeKind::kRelease;
  std::ostringstream out, err;
  EXPECT_EQ(RunSimulateCommand(o, Config{}, factory, SystemClock::Instance(), out, err, wait),
            kExitOk)
      << err.str();
  EXPECT_EQ(waits, 1);
  EXPECT_EQ(seen.notice.kind, NoticeKind::kRelease);
  EXPECT_EQ(seen.notice.action, "release");
}

}  // namespace
}  // namespace lastcall

namespace lastcall {
namespace {

TEST(SimulateCommand, AHandlerThatCannotBeBuiltIsAFailure) {
  HandlerFactory factory = [](const Config&, const Clock&, Metrics&) {
    return std::unique_ptr<NoticeHandler>();
  };
  CliOptions o;
  o.command = CliCommand::kSimulate;
  std::ostringstream out, err;
  EXPECT_EQ(RunSimulateCommand(o, Config{}, factory, SystemClock::Instance(), out, err),
            kExitFailure);
  EXPECT_NE(err.str().find("could not be set up"), std::string::npos);
  EXPECT_EQ(RunSimulateCommand(o, Config{}, nullptr, SystemClock::Instance(), out, err),
            kExitFailure);
}

}  // namespace
}  // namespace lastcall
