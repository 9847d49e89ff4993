#include "agent/actions/hook_runner.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "agent/testing/actions_test_support.h"
#include "common/time_format.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::Lines;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitFor;
using testing::WriteScript;

class HookRunnerTest : public ::testing::Test {
 protected:
  HookRunRequest Request(const std::string& script_body, const std::string& name = "10-test") {
    std::string path = tmp_ / name;
    WriteScript(path, script_body);
    HookRunRequest r;
    r.hook.name = name;
    r.hook.phase = HookPhase::kCheckpoint;
    r.hook.argv = {path};
    r.notice.id = "aws-interruption-i-0abc-20231114T222320Z";
    r.notice.provider = "aws";
    r.notice.kind = NoticeKind::kInterruption;
    r.notice.action = "terminate";
    r.notice.deadline = FromUnixSeconds(1'700'000'120);
    r.notice.raw = R"({"action":"terminate","time":"2023-11-14T22:15:20Z"})";
    r.identity = {"i-0abc", "m5.large", "us-east-1a", "us-east-1", "aws"};
    r.now = FromUnixSeconds(1'700'000'000);
    r.timeout = seconds(10);
    r.kill_grace = milliseconds(300);
    return r;
  }
  pid_t ReadPid(const std::string& file) {
    EXPECT_TRUE(WaitFor([&] { return !ReadFile(file).empty(); }));
    return static_cast<pid_t>(std::stoi(ReadFile(file)));
  }

  TempDir tmp_;
  testing::ScopedLogCapture logs_;
  testing::PidFileGuard pids_;  // declared after tmp_: kills before the pid files go away
  HookRunner runner_{SystemClock::Instance()};
};

TEST_F(HookRunnerTest, EnvironmentIsExactlyTheContract) {
  // The runner's child inherits nothing it is not given; no other thread reads the environment.
  ::setenv("LASTCALL_TEST_SECRET", "must-not-leak", 1);
  HookRunRequest r = Request("env > " + tmp_ / "env.txt");
  r.hook.env = {{"MY_SETTING", "42"}, {"LASTCALL_PHASE", "override-attempt"}};
  HookRun result = runner_.Run(r);
  ::unsetenv("LASTCALL_TEST_SECRET");
  ASSERT_TRUE(result.ok()) << result.Describe();
  std::vector<std::string> env = Lines(ReadFile(tmp_ / "env.txt"));
  for (const char* expected :
       {"LASTCALL_PHASE=checkpoint", "LASTCALL_PROVIDER=aws",
        "LASTCALL_NOTICE_ID=aws-interruption-i-0abc-20231114T222320Z",
        "LASTCALL_NOTICE_KIND=interruption", "LASTCALL_ACTION=terminate",
        "LASTCALL_DEADLINE=2023-11-14T22:15:20Z", "LASTCALL_DEADLINE_UNIX=1700000120",
        "LASTCALL_SECONDS_LEFT=120", "LASTCALL_TIMEOUT=10", "LASTCALL_INSTANCE_ID=i-0abc",
        "LASTCALL_INSTANCE_TYPE=m5.large", "LASTCALL_ZONE=us-east-1a", "LASTCALL_REGION=us-east-1",
        "MY_SETTING=42", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}) {
    EXPECT_THAT(env, Contains(expected));
  }
  for (const std::string& line : env) {
    // Only the contract, PATH, the hook's env, and what sh itself sets (PWD).
    std::string name = line.substr(0, line.find('='));
    EXPECT_TRUE(name.starts_with("LASTCALL_") || name == "PATH" || name == "MY_SETTING" ||
                name == "PWD")
        << "unexpected variable " << line;
  }
}

TEST_F(HookRunnerTest, AdvisoryWithoutDeadlineGetsEmptyDeadlineAndBudgetLeft) {
  HookRunRequest r = Request("env > " + tmp_ / "env.txt");
  r.notice.kind = NoticeKind::kRebalance;
  r.notice.deadline.reset();
  r.effective_deadline = r.now + seconds(90);
  r.timeout = std::chrono::milliseconds(84500);  // whole seconds, rounded down
  ASSERT_TRUE(runner_.Run(r).ok());
  std::vector<std::string> env = Lines(ReadFile(tmp_ / "env.txt"));
  EXPECT_THAT(env, Contains("LASTCALL_DEADLINE="));
  EXPECT_THAT(env, Contains("LASTCALL_DEADLINE_UNIX="));
  EXPECT_THAT(env, Contains("LASTCALL_SECONDS_LEFT=90"));
  EXPECT_THAT(env, Contains("LASTCALL_TIMEOUT=84"));
}

TEST_F(HookRunnerTest, NoticeJsonArrivesOnStdin) {
  HookRunRequest r = Request("cat > " + tmp_ / "stdin.json");
  ASSERT_TRUE(runner_.Run(r).ok());
  auto j = nlohmann::json::parse(ReadFile(tmp_ / "stdin.json"));
  EXPECT_EQ(j["id"], r.notice.id);
  EXPECT_EQ(j["kind"], "interruption");
  EXPECT_EQ(j["deadline_unix"], 1700000120);
  EXPECT_EQ(j["raw"], r.notice.raw);
}

TEST_F(HookRunnerTest, HookThatIgnoresStdinDoesNotHurtTheDaemon) {
  // Closing stdin before the notice is written must not raise SIGPIPE in the daemon.
  HookRunRequest r = Request("exec 0<&-; exit 0");
  r.notice.raw.assign(1 << 20, 'x');  // more than a socket buffer
  EXPECT_TRUE(runner_.Run(r).ok());
}

TEST_F(HookRunnerTest, OutputIsLoggedLineByLineWithTags) {
  HookRunRequest r =
      Request("echo 'saving state'; echo 'disk almost full' >&2; printf 'no newline'");
  ASSERT_TRUE(runner_.Run(r).ok());
  auto out = logs_.sink().Find("saving state");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message, "saving state");
  EXPECT_EQ(out[0].Field("HOOK"), "10-test");
  EXPECT_EQ(out[0].Field("PHASE"), "checkpoint");
  EXPECT_EQ(out[0].Field("NOTICE_ID"), r.notice.id);
  EXPECT_EQ(out[0].Field("STREAM"), "stdout");
  auto err = logs_.sink().Find("disk almost full");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0].Field("STREAM"), "stderr");
  EXPECT_EQ(logs_.sink().Find("no newline").size(), 1u);
}

TEST_F(HookRunnerTest, OutputIsBoundedByMaxOutputBytes) {
  HookRunRequest r = Request("i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done");
  r.max_output_bytes = 100;
  ASSERT_TRUE(runner_.Run(r).ok());
  EXPECT_EQ(logs_.sink().Find("line-0").size(), 1u);
  EXPECT_TRUE(logs_.sink().Find("line-199").empty());
  EXPECT_EQ(logs_.sink().Find("hook output truncated after 100 bytes").size(), 1u);
}

TEST_F(HookRunnerTest, ExitCodeAndSignalAreReported) {
  HookRun exit3 = runner_.Run(Request("exit 3"));
  EXPECT_EQ(exit3.result, HookResult::kFailed);
  EXPECT_EQ(exit3.exit_code, 3);
  EXPECT_EQ(exit3.Describe(), "exit-3");
  EXPECT_FALSE(exit3.ok());
  HookRun killed = runner_.Run(Request("kill -9 $$", "20-self-kill"));
  EXPECT_EQ(killed.result, HookResult::kFailed);
  EXPECT_EQ(killed.signal, 9);
  EXPECT_EQ(killed.Describe(), "signal-9");
}

TEST_F(HookRunnerTest, MissingProgramFailsToStart) {
  HookRunRequest r = Request("true");
  r.hook.argv = {tmp_ / "does-not-exist"};
  HookRun result = runner_.Run(r);
  EXPECT_EQ(result.result, HookResult::kStartFailed);
  EXPECT_THAT(result.error, HasSubstr("does-not-exist"));
  EXPECT_EQ(result.Describe(), "start_failed");
}

TEST_F(HookRunnerTest, TimeoutKillsTheWholeGroup) {
  HookRunRequest r = Request("sleep 30 & echo $! > " + tmp_ / "child.pid" + "; sleep 30");
  r.timeout = milliseconds(300);
  HookRun result = runner_.Run(r);
  EXPECT_EQ(result.result, HookResult::kTimeout);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_GE(result.duration, milliseconds(300));
  EXPECT_LT(result.duration, seconds(5));
  pid_t child = ReadPid(tmp_ / "child.pid");
  EXPECT_TRUE(WaitFor([&] { return !testing::ProcessAlive(child); }));
  EXPECT_FALSE(testing::ProcessAlive(result.pid));
}

TEST_F(HookRunnerTest, HookTrappingSigtermWithGrandchildLeavesNothingBehind) {
  // Both the hook and its grandchild ignore SIGTERM; only SIGKILL to the group ends them.
  HookRunRequest r = Request(
      // Loops are bounded (about 15 s) so nothing lingers even if the runner is broken.
      "trap '' TERM\n"
      "sh -c 'echo $$ > " +
      pids_.Watch(tmp_ / "grandchild.pid") +
      "; n=0; while [ $n -lt 300 ]; do n=$((n+1)); sleep 0.05; done' &\n"
      "echo $$ > " +
      pids_.Watch(tmp_ / "hook.pid") +
      "\n"
      "n=0; while [ $n -lt 300 ]; do n=$((n+1)); sleep 0.05; done");
  r.timeout = milliseconds(300);
  r.kill_grace = milliseconds(300);
  HookRun result = runner_.Run(r);
  EXPECT_EQ(result.result, HookResult::kTimeout);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_GE(result.duration, milliseconds(600));
  pid_t grandchild = ReadPid(tmp_ / "grandchild.pid");
  pid_t hook = ReadPid(tmp_ / "hook.pid");
  EXPECT_EQ(hook, result.pid);
  EXPECT_TRUE(WaitFor([&] { return !testing::ProcessAlive(grandchild); }));
  EXPECT_FALSE(testing::ProcessAlive(hook));
  EXPECT_EQ(logs_.sink().Find("sending SIGKILL to process group " + std::to_string(hook)).size(),
            1u);
}

TEST_F(HookRunnerTest, ProcessesLeftInTheGroupAfterExitAreStopped) {
  HookRunRequest r =
      Request("sleep 30 & echo $! > " + pids_.Watch(tmp_ / "child.pid") + "; exit 0");
  HookRun result = runner_.Run(r);
  EXPECT_TRUE(result.ok()) << result.Describe();
  EXPECT_LT(result.duration, seconds(5));
  pid_t child = ReadPid(tmp_ / "child.pid");
  EXPECT_TRUE(WaitFor([&] { return !testing::ProcessAlive(child); }));
  EXPECT_EQ(logs_.sink().Find("hook exited but left processes in its group").size(), 1u);
}

TEST_F(HookRunnerTest, NoDescriptorLeaksIntoHooks) {
  // An fd opened without O_CLOEXEC (as a careless library might) must not reach the hook.
  int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  HookRunRequest r = Request("true");
  r.hook.argv = {"/bin/sh", "-c", "ls /proc/$$/fd > " + tmp_ / "fds.txt"};
  HookRun result = runner_.Run(r);
  ::close(leaky);
  ASSERT_TRUE(result.ok());
  std::vector<std::string> fds = Lines(ReadFile(tmp_ / "fds.txt"));
  for (const std::string& fd : fds) {
    int n = std::stoi(fd);
    // 0-2 are the hook's stdio; ls itself may hold one fd open while listing.
    EXPECT_TRUE(n <= 2 || n != leaky) << "fd " << n << " leaked into the hook";
  }
  EXPECT_THAT(fds, Contains("0"));
  EXPECT_THAT(fds, ::testing::Not(Contains(std::to_string(leaky))));
}

TEST_F(HookRunnerTest, SeveralRunsAtOnce) {
  // Each hook waits until all three have started: run one after the other, they would time out.
  std::vector<HookRun> results(3);
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      std::string name = "par-" + std::to_string(i);
      HookRunRequest r =
          Request("touch " + tmp_ / ("started-" + std::to_string(i)) +
                      "\nn=0; while [ $n -lt 200 ]; do "
                      "[ -e " +
                      tmp_ / "started-0" + " ] && [ -e " + tmp_ / "started-1" + " ] && [ -e " +
                      tmp_ / "started-2" + " ] && exit 0; n=$((n+1)); sleep 0.02; done; exit 1",
                  name);
      r.timeout = seconds(8);
      results[static_cast<size_t>(i)] = runner_.Run(r);
    });
  }
  for (auto& t : threads) t.join();
  for (const HookRun& result : results) EXPECT_TRUE(result.ok()) << result.Describe();
}

TEST_F(HookRunnerTest, AbortStopsRunningHooks) {
  HookRunRequest r = Request("echo $$ > " + pids_.Watch(tmp_ / "hook.pid") + "; sleep 30");
  HookRun result;
  std::thread t([&] { result = runner_.Run(r); });
  pid_t hook = ReadPid(tmp_ / "hook.pid");
  runner_.Abort();
  t.join();
  EXPECT_EQ(result.result, HookResult::kAborted);
  EXPECT_FALSE(testing::ProcessAlive(hook));
  EXPECT_EQ(runner_.Run(Request("true", "later")).result, HookResult::kAborted);
}

}  // namespace
}  // namespace lastcall
