// The shared test support: a child's exit awaited within its bound (and not past it), the
// Child guard's environment and output files, TempDir's cleanup, and the file helpers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace lastcall::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WaitChildExit, ReturnsTheStatusOfAChildThatExitsWithinTheBound) {
  const pid_t pid = Spawn({"/bin/sh", "-c", "exit 3"}, {});
  ASSERT_GT(pid, 0);
  const auto start = std::chrono::steady_clock::now();
  const std::optional<int> status = WaitChildExit(pid, seconds(10));
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  // An event, not the bound: a quick child is seen well before it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  // Reaped: no child of ours any more.
  EXPECT_EQ(WaitChildExit(pid, milliseconds(0)), -1);
}

TEST(WaitChildExit, GivesUpAfterTheBoundOnAChildThatKeepsRunning) {
  const pid_t pid = Spawn({"/bin/sleep", "30"}, {});
  ASSERT_GT(pid, 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WaitChildExit(pid, milliseconds(200)).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
  EXPECT_TRUE(ProcessAlive(pid));
  KillAndReap(pid);
  EXPECT_FALSE(ProcessAlive(pid));
}

TEST(TerminateChild, KillsAChildThatIgnoresSigtermAfterTheGrace) {
  TempDir dir;
  const int out = ::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(out, 0);
  SpawnOptions options;
  options.stdout_fd = out;
  const pid_t pid = Spawn({"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"}, options);
  ::close(out);
  ASSERT_GT(pid, 0);
  // SIGTERM is ignored once it says so.
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir / "out") == "ready\n"; }));
  EXPECT_FALSE(TerminateChild(pid, milliseconds(300)).has_value());
  EXPECT_FALSE(ProcessAlive(pid));
}

TEST(Child, AddsOverridesAndRemovesEnvironmentVariables) {
  TempDir dir;
  ::setenv("LASTCALL_TEST_INHERITED", "kept", 1);
  ::setenv("LASTCALL_TEST_OVERRIDDEN", "before", 1);
  ::setenv("LASTCALL_TEST_REMOVED", "there", 1);
  Child c({"/bin/sh", "-c",
           "echo \"$LASTCALL_TEST_INHERITED $LASTCALL_TEST_OVERRIDDEN $LASTCALL_TEST_ADDED "
           "${LASTCALL_TEST_REMOVED-unset}\"; echo oops >&2; exit 4"},
          {"LASTCALL_TEST_OVERRIDDEN=after", "LASTCALL_TEST_ADDED=new", "LASTCALL_TEST_REMOVED"},
          dir.path());
  EXPECT_EQ(c.Wait(), 4);
  EXPECT_FALSE(c.Running());
  EXPECT_EQ(c.Stdout(), "kept after new unset\n");
  EXPECT_EQ(c.Stderr(), "oops\n");
}

TEST(Child, SetsWatchdogPidToTheChildsOwnPid) {
  TempDir dir;
  Child c({"/bin/sh", "-c", "echo \"$WATCHDOG_PID $$\""}, {}, dir.path(), true);
  ASSERT_EQ(c.Wait(), 0);
  const std::string pid = std::to_string(c.pid());
  EXPECT_EQ(c.Stdout(), pid + " " + pid + "\n");
}

TEST(Child, StopsWithSigtermAndReportsTheSignal) {
  TempDir dir;
  Child c({"/bin/sleep", "30"}, {}, ChildOutput{dir / "out", dir / "err"});
  EXPECT_TRUE(c.Running());
  EXPECT_EQ(c.Stop(seconds(10)), 128 + SIGTERM);
  EXPECT_FALSE(ProcessAlive(c.pid()));
  EXPECT_TRUE(FileExists(dir / "out"));
}

TEST(Child, KillsAndReapsByPidWhenTheGuardGoes) {
  TempDir dir;
  pid_t pid = -1;
  {
    Child c({"/bin/sleep", "30"}, {}, dir.path());
    pid = c.pid();
    ASSERT_TRUE(ProcessAlive(pid));
  }
  EXPECT_FALSE(ProcessAlive(pid));
}

TEST(TempDir, IsRemovedWithItsContentsAtScopeEnd) {
  std::string path;
  {
    TempDir dir("lastcall-support-test");
    path = dir.path();
    EXPECT_NE(path.find("/lastcall-support-test-"), std::string::npos) << path;
    MakeDir(dir / "a/b");
    WriteFile(dir / "a/b/file", "x\n");
    ASSERT_TRUE(FileExists(dir / "a/b/file"));
  }
  EXPECT_FALSE(FileExists(path));
}

TEST(Files, WriteReadAndSplit) {
  TempDir dir;
  WriteScript(dir / "s", "echo hi");
  EXPECT_EQ(::access((dir / "s").c_str(), X_OK), 0);
  EXPECT_EQ(ReadFile(dir / "s"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(ReadFile(dir / "missing"), "");
  EXPECT_EQ(Lines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(CountOf("aaaa", "aa"), 2u);
  EXPECT_EQ(CountOf("abc", ""), 0u);
}

TEST(WaitFor, ReturnsOnceTheConditionHoldsAndFalseAfterTheBound) {
  int calls = 0;
  EXPECT_TRUE(WaitFor([&] { return ++calls >= 3; }));
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(WaitFor([] { return false; }, milliseconds(50)));
}

}  // namespace
}  // namespace lastcall::testing
