// End to end: the real lastcalld watching an instance of the real mockmeta (manual virtual clock,
// moved by the test through the control API), with real hook scripts that append to marker
// files. lastcalld trusts the server's Date header (the virtual clock is far from the host's),
// so deadlines are judged in virtual time. Every wait is a bounded poll of a marker file, of
// lastcalld's status.json or of the control API; both processes are stopped by pid by guards,
// also when a test fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/mockmeta_process.h"
#include "tests/support/test_env.h"

namespace lastcall::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Polls `pred` until it holds or `limit` runs out (the one way these tests wait).
template <typename Pred>
bool WaitFor(Pred pred, milliseconds limit = milliseconds(20000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return pred();
}

// lastcalld as a child process; SIGTERM then SIGKILL by pid when the guard goes.
class Agent {
 public:
  Agent(const std::string& config, const std::string& dir) : err_(dir + "/lastcalld.stderr") {
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open((dir + "/lastcalld.stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::unsetenv("NOTIFY_SOCKET");
      ::unsetenv("JOURNAL_STREAM");
      std::string bin = LastcalldBin();
      std::string flag = "--config";
      std::string cfg = config;
      char* argv[] = {bin.data(), flag.data(), cfg.data(), nullptr};
      ::execv(argv[0], argv);
      ::_exit(127);
    }
  }
  ~Agent() { Stop(); }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // SIGTERM, bounded wait, then SIGKILL. Returns the exit code, or -1.
  int Stop() {
    if (pid_ <= 0) return code_;
    ::kill(pid_, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + seconds(10);
    int st = 0;
    pid_t r = 0;
    while ((r = ::waitpid(pid_, &st, WNOHANG)) == 0 && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    if (r == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
      code_ = -1;
    } else if (r < 0) {
      code_ = -1;  // already reaped (it died earlier): running() said so
    } else {
      code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    pid_ = -1;
    return code_;
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string Stderr() const { return ReadFile(err_); }

 private:
  pid_t pid_ = -1;
  int code_ = -1;
  std::string err_;
};

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(LastcalldBin().c_str(), X_OK), 0) << LastcalldBin();
    dir_ = ::testing::TempDir() + "/lastcall-e2e-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    for (const char* phase : {"checkpoint", "drain", "resume"}) {
      std::filesystem::create_directories(dir_ + "/hooks.d/" + phase);
      ::chmod((dir_ + "/hooks.d/" + phase).c_str(), 0755);
    }
    ::chmod(dir_.c_str(), 0755);
    ::chmod((dir_ + "/hooks.d").c_str(), 0755);
    for (const char* phase : {"checkpoint", "drain", "resume"}) WriteHook(phase);
    auto p = MockmetaProcess::Start(
        {"--imds-listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0", "--clock", "manual"});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    mock_ = std::move(p).value();
  }

  void TearDown() override {
    if (agent_) {
      const int code = agent_->Stop();
      EXPECT_EQ(code, 0) << agent_->Stderr();
      if (HasFailure()) std::cerr << "lastcalld stderr:\n" << agent_->Stderr();
    }
    if (mock_) {
      EXPECT_EQ(mock_->Terminate(), 0) << mock_->Stderr();
    }
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // A hook that appends "<phase> <kind> <notice id>" to the shared timeline and to its marker.
  void WriteHook(const std::string& phase) {
    const std::string path = dir_ + "/hooks.d/" + phase + "/10-mark";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "line=\"$LASTCALL_PHASE $LASTCALL_NOTICE_KIND $LASTCALL_NOTICE_ID\"\n"
                        << "echo \"$line\" >> " << dir_ << "/timeline\n"
                        << "echo \"$line\" >> " << dir_ << "/" << phase << ".marker\n";
    ::chmod(path.c_str(), 0755);  // not group/world-writable: the agent trusts it
  }

  void StartAgent(const std::string& provider, const std::string& instance_id) {
    const Endpoint imds = mock_->imds();
    const std::string config = dir_ + "/lastcalld.toml";
    std::ofstream(config) << "provider = \"" << provider << "\"\n"
                          << "state_dir = \"" << dir_ << "/state\"\n"
                          << "runtime_dir = \"" << dir_ << "/run\"\n"
                          << "log_level = \"debug\"\n"
                          << "[poll]\ninterval = \"100ms\"\nrequest_timeout = \"80ms\"\n"
                          << "jitter = 0\nclock_skew_threshold = \"2s\"\n"
                          << "[" << provider << "]\nendpoint = \"http://" << imds.address << ":"
                          << imds.port << "/" << instance_id << "\"\n"
                          << "[hooks]\ndir = \"" << dir_ << "/hooks.d\"\n"
                          << "allowed_owner = \"" << ::getuid() << "\"\n"
                          << "default_timeout = \"20s\"\n";
    agent_ = std::make_unique<Agent>(config, dir_);
    // Ready: it has read the instance's identity through mockmeta.
    ASSERT_TRUE(WaitFor([&] {
      const json identity = AgentStatus().value("identity", json());
      return identity.is_object() && identity.value("instance_id", "") == instance_id;
    })) << agent_->Stderr();
  }

  json AgentStatus() const {
    json j = json::parse(ReadFile(dir_ + "/run/status.json"), nullptr, false);
    return j.is_object() ? j : json::object();
  }
  uint64_t Polls() const { return AgentStatus().value("polls", uint64_t{0}); }

  json Control(const std::string& method, const std::string& target, const std::string& body = "",
               int want = 200) {
    auto r = Http(mock_->control(), method, target, body);
    EXPECT_TRUE(r.has_value()) << method << " " << target;
    if (!r) return json::object();
    EXPECT_EQ(r->status, want) << method << " " << target << ": " << r->body;
    json j = json::parse(r->body, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }
  void Advance(const std::string& by) {
    Control("POST", "/v1/clock/advance", R"({"by":")" + by + R"("})");
  }

  // Waits until the agent has polled `n` more times: what it does after a state is settled.
  void AwaitMorePolls(uint64_t n) {
    const uint64_t from = Polls();
    ASSERT_TRUE(WaitFor([&] { return Polls() >= from + n; })) << agent_->Stderr();
  }

  // The marker lines of `phase` for notices of `kind`.
  std::vector<std::string> Runs(const std::string& phase, const std::string& kind) const {
    std::vector<std::string> out;
    for (const std::string& l : Lines(dir_ + "/" + phase + ".marker")) {
      if (l.rfind(phase + " " + kind + " ", 0) == 0) out.push_back(l);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<MockmetaProcess> mock_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(EndToEndTest,
       AlibabaInstanceRecycledAfterProtectionByAPriceRiseRunsCheckpointThenDrainOnce) {
  const std::string pool = "/v1/pools/ecs.c5.8xlarge@cn-hangzhou-b";
  json made = Control("POST", "/v1/alibaba/instances",
                      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge",)"
                      R"("spot_strategy":"SpotWithPriceLimit","spot_price_limit":0.2,)"
                      R"("spot_duration":1,"name":"render"})",
                      201);
  ASSERT_EQ(made["InstanceIdSets"]["InstanceIdSet"].size(), 1u) << made.dump();
  const std::string id = made["InstanceIdSets"]["InstanceIdSet"][0];
  StartAgent("alibaba", id);

  // The price rises above the bid at once, but the protection hour holds it.
  Control("PATCH", pool, R"({"price":0.3})");
  Advance("30m");
  AwaitMorePolls(5);
  json d = Control("GET", "/v1/alibaba/instances/" + id);
  EXPECT_TRUE(d["OperationLocks"]["LockReason"].empty()) << d.dump();
  EXPECT_TRUE(Lines(dir_ + "/timeline").empty());

  // The check at creation + 1h puts it To Be Released (release at + 5 min).
  Advance("30m");
  d = Control("GET", "/v1/alibaba/instances/" + id);
  ASSERT_EQ(d["OperationLocks"]["LockReason"].size(), 1u) << d.dump();
  EXPECT_EQ(d["OperationLocks"]["LockReason"][0]["LockReason"], "Recycling");
  EXPECT_EQ(d["TerminationTime"], "2026-04-07T01:05:00Z");

  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "release").size() == 1; })) << agent_->Stderr();
  // Checkpoint, then drain, before the release.
  std::vector<std::string> timeline = Lines(dir_ + "/timeline");
  ASSERT_EQ(timeline.size(), 2u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(timeline[0].rfind("checkpoint release alibaba-release-" + id, 0), 0u) << timeline[0];
  EXPECT_EQ(timeline[1].rfind("drain release alibaba-release-" + id, 0), 0u) << timeline[1];
  EXPECT_EQ(Control("GET", "/v1/alibaba/instances/" + id)["Status"], "Running");

  Advance("5m");
  EXPECT_EQ(Control("GET", "/v1/alibaba/instances/" + id)["Status"], "Released");
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["cloud_state"], "Released");
  // Exactly once: more polls (now of a released instance) run nothing again.
  AwaitMorePolls(10);
  EXPECT_EQ(Runs("checkpoint", "release").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("drain", "release").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_TRUE(agent_->running());
}

TEST_F(EndToEndTest, AwsOneTimeRequestInterruptedByACapacityDropRunsHooksOnce) {
  const std::string pool = "/v1/pools/m5.large@us-east-1a";
  Control("PATCH", pool, R"({"model":{"kind":"fixed"},"price":0.035})");
  json req = Control("POST", "/v1/aws/spot-requests",
                     R"({"instance_type":"m5.large","zone":"us-east-1a","type":"one-time",)"
                     R"("max_price":0.05})",
                     201);
  ASSERT_EQ(req["spot_requests"].size(), 1u) << req.dump();
  const std::string sir = req["spot_requests"][0]["id"];
  ASSERT_EQ(req["spot_requests"][0]["status"]["code"], "fulfilled") << req.dump();
  const std::string id = req["spot_requests"][0]["instance_id"];
  StartAgent("aws", id);
  AwaitMorePolls(3);
  EXPECT_TRUE(Lines(dir_ + "/timeline").empty());

  // Capacity drops below what runs: the only instance gets a two-minute notice.
  Control("PATCH", pool, R"({"capacity":0})");
  Advance("0s");
  json sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["status"]["code"], "marked-for-termination") << sr.dump();
  json inst = Control("GET", "/v1/instances/" + id);
  EXPECT_EQ(inst["metadata"]["instance_action"]["action"], "terminate") << inst.dump();

  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "interruption").size() == 1; }))
      << agent_->Stderr();
  ASSERT_EQ(Runs("checkpoint", "interruption").size(), 1u);
  std::vector<std::string> timeline = Lines(dir_ + "/timeline");
  size_t cp = timeline.size(), dr = timeline.size();
  for (size_t i = 0; i < timeline.size(); ++i) {
    if (timeline[i].rfind("checkpoint interruption", 0) == 0) cp = i;
    if (timeline[i].rfind("drain interruption", 0) == 0) dr = i;
  }
  EXPECT_LT(cp, dr) << ReadFile(dir_ + "/timeline");

  Advance("2m");
  sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["state"], "closed");
  EXPECT_EQ(sr["status"]["code"], "instance-terminated-no-capacity");
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "terminated");
  AwaitMorePolls(10);
  EXPECT_EQ(Runs("checkpoint", "interruption").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("drain", "interruption").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_TRUE(agent_->running());
}

TEST_F(EndToEndTest, ScheduledEventCanceledBeforeNotBeforeRunsResumeHooks) {
  json inst = Control("POST", "/v1/aws/instances",
                      R"({"type":"m5.large","zone":"us-east-1a","spot":false,"name":"web"})", 201);
  const std::string id = inst["id"];
  StartAgent("aws", id);
  AwaitMorePolls(3);

  // Within the maintenance lead (10 min): checkpoint and drain start at once.
  json ev = Control("POST", "/v1/aws/instances/" + id + "/scheduled-events",
                    R"({"code":"system-reboot","not_before":"2026-04-07T00:05:00Z"})", 201);
  const std::string event = ev["event_id"];
  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "maintenance").size() == 1; }))
      << agent_->Stderr();
  EXPECT_TRUE(Runs("resume", "maintenance").empty());

  // Canceled before NotBefore: the resume hooks run, once.
  Advance("1m");
  json c = Control("POST", "/v1/aws/instances/" + id + "/scheduled-events/" + event + "/cancel");
  EXPECT_EQ(c["scheduled_events"][0]["state"], "canceled") << c.dump();
  ASSERT_TRUE(WaitFor([&] { return Runs("resume", "maintenance").size() == 1; }))
      << agent_->Stderr();
  std::vector<std::string> timeline = Lines(dir_ + "/timeline");
  ASSERT_FALSE(timeline.empty());
  EXPECT_EQ(timeline.back().rfind("resume maintenance", 0), 0u) << ReadFile(dir_ + "/timeline");
  AwaitMorePolls(10);
  EXPECT_EQ(Runs("resume", "maintenance").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("checkpoint", "maintenance").size(), 1u);
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "running");
}

}  // namespace
}  // namespace lastcall::testing
