// The real lastcalld binary (LASTCALLD_BIN) against the loopback test server playing IMDS:
// the sd_notify sequence over a test NOTIFY_SOCKET, SIGHUP reload (good and bad files),
// --check-config exit codes with file:line:col, `status`, and a notice running a hook.
// Every process a test starts is stopped by pid by a guard, also when the test fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/time_format.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"
#include "tests/support/test_http_server.h"
#include "tests/support/wait.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TestHttpServer;
using testing::TestResponse;

std::string Bin() { return testing::LastcalldBin(); }

using testing::Child;
using testing::MakeDir;
using testing::ReadFile;
using testing::WaitFor;

// A unix datagram socket playing systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path_;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Reads datagrams until one starts with `prefix` (bounded); returns it, or "".
  std::string Await(const std::string& prefix, milliseconds limit = milliseconds(10000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return "";
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string m(buf, static_cast<size_t>(n));
      all.push_back(m);
      if (m.rfind(prefix, 0) == 0) return m;
    }
  }
  std::vector<std::string> all;

 private:
  std::string path_;
  int fd_ = -1;
};

class LastcalldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(Bin().c_str(), X_OK), 0) << Bin() << " is not an executable";
    MakeDir(dir_, 0755);
    MakeDir(dir_ + "/hooks.d");
    // IMDS: a token, the identity, and 404 (no notice) everywhere else.
    testing::ServeAwsIdentity(server_, "i-0a1b2c3d4e5f60718");
    WriteConfig("100ms");
  }

  void Meta(const std::string& path, const std::string& body) {
    server_.Set("GET", "/latest/meta-data/" + path, TestResponse::Text(body));
  }
  std::string config_path() const { return dir_ + "/lastcalld.toml"; }
  void WriteConfig(const std::string& interval, const std::string& extra = "") {
    std::ofstream(config_path()) << "provider = \"aws\"\n"
                                 << "state_dir = \"" << dir_ << "/state\"\n"
                                 << "runtime_dir = \"" << dir_ << "/run\"\n"
                                 << "log_level = \"debug\"\n"
                                 << "[poll]\ninterval = \"" << interval << "\"\n"
                                 << "request_timeout = \"80ms\"\njitter = 0\n"
                                 << "[aws]\nendpoint = \"" << server_.url() << "\"\n"
                                 << "[hooks]\ndir = \"" << dir_ << "/hooks.d\"\n"
                                 << extra;
  }
  std::unique_ptr<Child> Start(NotifySocket* notify = nullptr, bool watchdog = false) {
    std::vector<std::string> env = {"JOURNAL_STREAM="};
    if (notify) env.push_back("NOTIFY_SOCKET=" + notify->path());
    if (watchdog) env.push_back("WATCHDOG_USEC=200000");
    return std::make_unique<Child>(std::vector<std::string>{Bin(), "--config", config_path()}, env,
                                   dir_, watchdog);
  }
  int RunCli(std::vector<std::string> args, std::string* out = nullptr,
             std::string* err = nullptr) {
    args.insert(args.begin(), Bin());
    Child c(args, {}, dir_);
    int code = c.Wait();
    if (out) *out = c.Stdout();
    if (err) *err = c.Stderr();
    return code;
  }

  const testing::TempDir tmp_{"lastcalld-it"};  // removed with everything in it at the end
  const std::string dir_ = tmp_.path();
  TestHttpServer server_;
};

TEST_F(LastcalldTest, SdNotifySequenceReadyStatusWatchdogReloadingStopping) {
  NotifySocket notify(::testing::TempDir() + "/lastcalld-it-notify-" + std::to_string(::getpid()));
  auto child = Start(&notify, /*watchdog=*/true);
  std::string ready = notify.Await("READY=1");
  ASSERT_FALSE(ready.empty()) << child->Stderr();
  EXPECT_NE(ready.find("STATUS=watching"), std::string::npos) << ready;
  EXPECT_NE(ready.find("i-0a1b2c3d4e5f60718"), std::string::npos) << ready;
  EXPECT_GE(server_.RequestCount("GET", "/latest/meta-data/spot/instance-action"), 1u);
  ASSERT_FALSE(notify.Await("WATCHDOG=1").empty());
  ASSERT_FALSE(notify.Await("WATCHDOG=1").empty());  // repeatedly, at half of WATCHDOG_USEC

  child->Signal(SIGHUP);
  std::string reloading = notify.Await("RELOADING=1");
  ASSERT_FALSE(reloading.empty());
  EXPECT_NE(reloading.find("\nMONOTONIC_USEC="), std::string::npos);
  ASSERT_FALSE(notify.Await("READY=1").empty());

  child->Signal(SIGTERM);
  ASSERT_FALSE(notify.Await("STOPPING=1").empty());
  EXPECT_EQ(child->Wait(), 0) << child->Stderr();
  // STATUS= came first, at start.
  ASSERT_FALSE(notify.all.empty());
  EXPECT_EQ(notify.all.front().rfind("STATUS=starting", 0), 0u) << notify.all.front();
}

TEST_F(LastcalldTest, SighupReloadsAGoodFileAndKeepsTheOldOneOnError) {
  auto child = Start();
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(dir_ + "/run/status.json").find("i-0a1b2c3d4e5f60718") != std::string::npos;
  })) << child->Stderr();

  // A broken file: refused with file:line:col, the daemon keeps polling.
  std::ofstream(config_path(), std::ios::app) << "[metrics]\nwrite_intervall = \"5s\"\n";
  child->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] {
    return child->Stderr().find("config reload failed") != std::string::npos;
  })) << child->Stderr();
  std::string err = child->Stderr();
  EXPECT_NE(err.find(config_path() + ":14:1: unknown key \"write_intervall\" in [metrics]; did "
                                     "you mean \"write_interval\"?"),
            std::string::npos)
      << err;
  size_t polls = server_.RequestCount("GET", "/latest/meta-data/spot/instance-action");
  ASSERT_TRUE(WaitFor([&] {
    return server_.RequestCount("GET", "/latest/meta-data/spot/instance-action") > polls + 2;
  }));

  // A good file with a metrics textfile: applied without a restart.
  WriteConfig("100ms", "[metrics]\ntextfile = \"" + dir_ + "/lastcall.prom\"\n");
  child->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] {
    return child->Stderr().find("config reloaded from " + config_path()) != std::string::npos;
  })) << child->Stderr();
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(dir_ + "/lastcall.prom").find("lastcall_polls_total") != std::string::npos;
  }));
  EXPECT_EQ(child->Wait(milliseconds(1)), -1);  // still running
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(), 0);
}

TEST_F(LastcalldTest, CheckConfigExitCodes) {
  std::string out, err;
  EXPECT_EQ(RunCli({"--check-config", "--config", config_path()}, &out, &err), 0) << err;
  EXPECT_EQ(out, "ok\n");

  std::ofstream(config_path(), std::ios::app) << "[detect]\nprobe_timeout = 300\n";
  EXPECT_EQ(RunCli({"--check-config", "--config", config_path()}, &out, &err), 78);
  EXPECT_NE(err.find(config_path() + ":14:17: detect.probe_timeout must be a duration string"),
            std::string::npos)
      << err;

  EXPECT_EQ(RunCli({"--check-config", "--config", dir_ + "/missing.toml"}, &out, &err), 78);
  EXPECT_NE(err.find(dir_ + "/missing.toml: cannot read the config file"), std::string::npos);

  EXPECT_EQ(RunCli({"--frobnicate"}, &out, &err), 64);
  EXPECT_NE(err.find("unknown option \"--frobnicate\""), std::string::npos) << err;
  EXPECT_EQ(RunCli({"--help"}, &out, &err), 0);
  EXPECT_NE(out.find("Usage: lastcalld"), std::string::npos);
  EXPECT_EQ(RunCli({"--version"}, &out, &err), 0);
  EXPECT_EQ(out.rfind("lastcalld ", 0), 0u);
}

TEST_F(LastcalldTest, StatusShowsTheRunningDaemonAndNotRunningAfterStop) {
  std::string out, err;
  EXPECT_EQ(RunCli({"status", "--config", config_path()}, &out, &err), 3);
  EXPECT_NE(err.find("lastcalld is not running"), std::string::npos) << err;

  auto child = Start();
  ASSERT_TRUE(WaitFor([&] {
    return RunCli({"status", "--config", config_path()}, &out, &err) == 0 &&
           out.find("i-0a1b2c3d4e5f60718") != std::string::npos;
  })) << out
      << err << child->Stderr();
  EXPECT_NE(out.find("lastcalld running"), std::string::npos) << out;
  EXPECT_EQ(RunCli({"status", "--json", "--config", config_path()}, &out, &err), 0);
  EXPECT_NE(out.find("\"instance_id\": \"i-0a1b2c3d4e5f60718\""), std::string::npos) << out;

  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(), 0);
  EXPECT_EQ(RunCli({"status", "--config", config_path()}, &out, &err), 3);
  EXPECT_NE(out.find("lastcalld stopped"), std::string::npos) << out;
}

TEST_F(LastcalldTest, AnInterruptionNoticeRunsTheCheckpointHook) {
  std::string marker = dir_ + "/checkpoint-ran";
  std::string hook = dir_ + "/hooks.d/checkpoint/10-mark";
  std::filesystem::create_directories(dir_ + "/hooks.d/checkpoint");
  std::ofstream(hook) << "#!/bin/sh\necho \"$LASTCALL_NOTICE_KIND $LASTCALL_INSTANCE_ID\" > "
                      << marker << "\n";
  ::chmod(hook.c_str(), 0755);
  auto child = Start();
  ASSERT_TRUE(WaitFor(
      [&] { return server_.RequestCount("GET", "/latest/meta-data/spot/instance-action") >= 1; }));
  // Two minutes from now, as AWS announces it.
  std::string when = FormatRfc3339(SystemClock::Instance().Now() + std::chrono::minutes(2));
  Meta("spot/instance-action", "{\"action\":\"terminate\",\"time\":\"" + when + "\"}");
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(marker).find("interruption i-0a1b2c3d4e5f60718") == 0;
  })) << child->Stderr();
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(), 0) << child->Stderr();
}

// Regression (issue 11, item 1 and 2): one 0xFF byte in a metadata answer aborted lastcalld on
// its first poll (status.json was dumped with nlohmann's strict UTF-8 handler), and a body with
// "\n<0>" wrote forged lines with journal priorities. Every monitored path and the instance id
// answer hostile bytes here: the daemon keeps polling, status.json stays valid JSON, and no
// log line starts with anything but the daemon's own "<N>" prefix.
TEST_F(LastcalldTest, NonUtf8AndForgedLogLinesInEveryMetadataAnswerDoNotCrashOrInject) {
  const std::string bad = "i-\xff\xfe\n<0>FORGED\r\x1b[2J";
  Meta("instance-id", bad);
  Meta("spot/instance-action", "{\"action\":\"x\\n<0>FORGED\",\"time\":\"2030-01-01T00:00:00Z\"}");
  Meta("spot/termination-time", "garbage\n<0>FORGED \xff");
  Meta("events/recommendations/rebalance", "{\"noticeTime\":\"2300-01-01T00:00:00Z\xff\"}");
  Meta("events/maintenance/scheduled",
       "[{\"Code\":\"system-reboot\xff\",\"EventId\":\"e\\n<0>FORGED\xff\",\"State\":\"active\","
       "\"NotBefore\":\"21 Jan 2030 09:00:43 GMT\",\"Description\":\"\xff\"}]");
  Meta("autoscaling/target-lifecycle-state", "Terminated\xff\n<0>FORGED");
  auto child = Start();
  ASSERT_TRUE(WaitFor([&] {
    return server_.RequestCount("GET", "/latest/meta-data/spot/instance-action") >= 4;
  })) << child->Stderr();
  EXPECT_EQ(child->Wait(milliseconds(1)), -1) << "lastcalld died: " << child->Stderr();
  std::string status;
  ASSERT_TRUE(WaitFor([&] {
    status = ReadFile(dir_ + "/run/status.json");
    return status.find("\"polls\"") != std::string::npos;
  })) << child->Stderr();
  // Valid JSON, parsed by the CLI's strict reader.
  std::string out, err;
  EXPECT_EQ(RunCli({"status", "--json", "--config", config_path()}, &out, &err), 0) << err;
  EXPECT_NE(out.find("\"polls\""), std::string::npos) << out;
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(), 0) << child->Stderr();
  std::istringstream lines(child->Stderr());
  size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ASSERT_GE(line.size(), 3u) << line;
    EXPECT_EQ(line[0], '<') << line;
    EXPECT_TRUE(line[1] >= '3' && line[1] <= '7') << line;  // never <0>, <1>, <2>
    for (unsigned char c : line) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << "control byte in " << line;
    EXPECT_EQ(line.find('\xff'), std::string::npos) << line;
  }
  EXPECT_GT(count, 0u);
}

// Regression (issue 11, item 6): a FIFO named <id>.json in the state directory blocked
// start-up forever (the record was opened blocking, waiting for a writer).
TEST_F(LastcalldTest, AFifoInTheStateDirectoryDoesNotBlockStartUp) {
  std::filesystem::create_directories(dir_ + "/state/notices");
  ASSERT_EQ(::mkfifo((dir_ + "/state/notices/aws-interruption-x.json").c_str(), 0644), 0);
  auto child = Start();
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(dir_ + "/run/status.json").find("i-0a1b2c3d4e5f60718") != std::string::npos;
  })) << child->Stderr();
  EXPECT_NE(child->Stderr().find("not a regular file"), std::string::npos) << child->Stderr();
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(), 0) << child->Stderr();
}

}  // namespace
}  // namespace lastcall
