// End to end: the real lastcalld watching an instance of the real mockmeta (manual virtual clock,
// moved by the test through the control API), with real hook scripts that append to marker
// files. lastcalld trusts the server's Date header (the virtual clock is far from the host's),
// so deadlines are judged in virtual time. Every wait is a bounded poll of a marker file, of
// lastcalld's status.json or of the control API; both processes are stopped by pid by guards,
// also when a test fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "mockmeta/testing/mockmeta_process.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"
#include "tests/support/wait.h"

namespace lastcall::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The non-empty lines of the file at `path` (a marker file or the timeline).
std::vector<std::string> FileLines(const std::string& path) {
  std::vector<std::string> out = Lines(ReadFile(path));
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

// How long a wait for the agent may take: room for a loaded machine (the compiler next door).
constexpr milliseconds kPatience{20000};

// lastcalld as a Child; SIGTERM then SIGKILL by pid when the guard goes. Its stdout and stderr
// are <prefix>.stdout and <prefix>.stderr.
class Agent {
 public:
  Agent(const std::string& config, const std::string& prefix)
      : child_({LastcalldBin(), "--config", config}, {"NOTIFY_SOCKET", "JOURNAL_STREAM"},
               ChildOutput{prefix + ".stdout", prefix + ".stderr"}) {}
  ~Agent() { Stop(); }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // SIGTERM, bounded wait (its exit is an event), then SIGKILL. Returns the exit code (128 +
  // the signal when one ended it), or -1 when it had to be killed; 0 after Kill9.
  int Stop() { return killed_ ? 0 : child_.Stop(seconds(10)); }
  // kill -9, as a crash would: hooks it started keep running in their own process groups.
  void Kill9() {
    child_.Kill();
    killed_ = true;
  }
  bool running() { return !killed_ && child_.Running(); }
  std::string Stderr() const { return child_.Stderr(); }

 private:
  Child child_;
  bool killed_ = false;
};

// How many lines of `text` contain `what` and, after it, `token`.
size_t LinesWith(const std::string& text, const std::string& what, const std::string& token) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find(what);
    if (at != std::string::npos && line.find(token, at) != std::string::npos) ++n;
  }
  return n;
}

// What differs between the agents of the tests; the defaults are the existing tests' agent.
struct AgentOptions {
  // "" = the test's main agent (files directly in the test dir); otherwise a second agent with
  // its own config, state and runtime dirs under <dir>/<tag>/ (the hooks are shared).
  std::string tag;
  // Short, so tests are fast; a loaded machine may need more room (see the fault tests).
  std::string interval = "100ms";
  std::string request_timeout = "80ms";
  std::string poll_extra;      // more [poll] lines
  std::string provider_extra;  // more [aws] / [alibaba] lines
};

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(LastcalldBin().c_str(), X_OK), 0) << LastcalldBin();
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');  // parameterized: "Name/aws_5xx"
    dir_ = ::testing::TempDir() + "/lastcall-e2e-" + std::to_string(::getpid()) + "-" + name;
    std::filesystem::remove_all(dir_);
    for (const char* phase : {"checkpoint", "drain", "resume"}) {
      std::filesystem::create_directories(dir_ + "/hooks.d/" + phase);
      ::chmod((dir_ + "/hooks.d/" + phase).c_str(), 0755);
    }
    ::chmod(dir_.c_str(), 0755);
    ::chmod((dir_ + "/hooks.d").c_str(), 0755);
    for (const char* phase : {"checkpoint", "drain", "resume"}) WriteHook(phase);
    auto p = MockmetaProcess::Start({"--imds-listen", "127.0.0.1:0", "--control-listen",
                                     "127.0.0.1:0", "--ec2-listen", "127.0.0.1:0", "--ecs-listen",
                                     "127.0.0.1:0", "--clock", "manual"});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    mock_ = std::move(p).value();
  }

  void TearDown() override {
    if (second_) {
      const int code = second_->Stop();
      EXPECT_EQ(code, 0) << second_->Stderr();
      if (HasFailure()) std::cerr << "second lastcalld stderr:\n" << second_->Stderr();
    }
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

  // A hook that appends "<phase> <kind> <notice id> <instance id>" to the shared timeline and to
  // its marker.
  void WriteHook(const std::string& phase) {
    const std::string path = dir_ + "/hooks.d/" + phase + "/10-mark";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "line=\"$LASTCALL_PHASE $LASTCALL_NOTICE_KIND $LASTCALL_NOTICE_ID "
                           "$LASTCALL_INSTANCE_ID\"\n"
                        << "echo \"$line\" >> " << dir_ << "/timeline\n"
                        << "echo \"$line\" >> " << dir_ << "/" << phase << ".marker\n";
    ::chmod(path.c_str(), 0755);  // not group/world-writable: the agent trusts it
  }

  // The directory of an agent's config, state, runtime dir and output.
  std::string AgentDir(const std::string& tag) const {
    return tag.empty() ? dir_ : dir_ + "/" + tag;
  }

  void StartAgent(const std::string& provider, const std::string& instance_id,
                  const AgentOptions& options = {}) {
    const Endpoint imds = mock_->imds();
    const std::string home = AgentDir(options.tag);
    std::filesystem::create_directories(home);
    const std::string config = home + "/lastcalld.toml";
    std::ofstream(config) << "provider = \"" << provider << "\"\n"
                          << "state_dir = \"" << home << "/state\"\n"
                          << "runtime_dir = \"" << home << "/run\"\n"
                          << "log_level = \"debug\"\n"
                          << "[poll]\ninterval = \"" << options.interval
                          << "\"\nrequest_timeout = \"" << options.request_timeout << "\"\n"
                          << "jitter = 0\nclock_skew_threshold = \"2s\"\n"
                          << options.poll_extra << "[" << provider << "]\nendpoint = \"http://"
                          << imds.address << ":" << imds.port << "/" << instance_id << "\"\n"
                          << options.provider_extra << "[hooks]\ndir = \"" << dir_ << "/hooks.d\"\n"
                          << "allowed_owner = \"" << ::getuid() << "\"\n"
                          << "default_timeout = \"20s\"\n";
    std::unique_ptr<Agent>& slot = options.tag.empty() ? agent_ : second_;
    slot = std::make_unique<Agent>(config, home + "/lastcalld");
    // Ready: it has read the instance's identity through mockmeta.
    ASSERT_TRUE(WaitFor(
        [&] {
          const json identity = AgentStatus(options.tag).value("identity", json());
          return identity.is_object() && identity.value("instance_id", "") == instance_id;
        },
        kPatience))
        << slot->Stderr();
  }

  json AgentStatus(const std::string& tag = "") const {
    json j = json::parse(ReadFile(AgentDir(tag) + "/run/status.json"), nullptr, false);
    return j.is_object() ? j : json::object();
  }
  uint64_t Polls(const std::string& tag = "") const {
    return AgentStatus(tag).value("polls", uint64_t{0});
  }

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
    ASSERT_TRUE(WaitFor([&] { return Polls() >= from + n; }, kPatience)) << agent_->Stderr();
  }

  // The marker lines of `phase` for notices of `kind`.
  std::vector<std::string> Runs(const std::string& phase, const std::string& kind) const {
    std::vector<std::string> out;
    for (const std::string& l : FileLines(dir_ + "/" + phase + ".marker")) {
      if (l.rfind(phase + " " + kind + " ", 0) == 0) out.push_back(l);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<MockmetaProcess> mock_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<Agent> second_;  // a second agent (AgentOptions::tag), stopped first
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
  EXPECT_TRUE(FileLines(dir_ + "/timeline").empty());

  // The check at creation + 1h puts it To Be Released (release at + 5 min).
  Advance("30m");
  d = Control("GET", "/v1/alibaba/instances/" + id);
  ASSERT_EQ(d["OperationLocks"]["LockReason"].size(), 1u) << d.dump();
  EXPECT_EQ(d["OperationLocks"]["LockReason"][0]["LockReason"], "Recycling");
  EXPECT_EQ(d["TerminationTime"], "2026-04-07T01:05:00Z");

  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "release").size() == 1; }, kPatience))
      << agent_->Stderr();
  // Checkpoint, then drain, before the release.
  std::vector<std::string> timeline = FileLines(dir_ + "/timeline");
  ASSERT_EQ(timeline.size(), 2u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(timeline[0].rfind("checkpoint release alibaba-release " + id, 0), 0u) << timeline[0];
  EXPECT_EQ(timeline[1].rfind("drain release alibaba-release " + id, 0), 0u) << timeline[1];
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
  EXPECT_TRUE(FileLines(dir_ + "/timeline").empty());

  // Capacity drops below what runs: the only instance gets a two-minute notice.
  Control("PATCH", pool, R"({"capacity":0})");
  Advance("0s");
  json sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["status"]["code"], "marked-for-termination") << sr.dump();
  json inst = Control("GET", "/v1/instances/" + id);
  EXPECT_EQ(inst["metadata"]["instance_action"]["action"], "terminate") << inst.dump();

  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "interruption").size() == 1; }, kPatience))
      << agent_->Stderr();
  // The instance is checkpointed once: by the interruption, or by the rebalance
  // recommendation raised with it, whose running checkpoint the interruption adopts.
  ASSERT_EQ(FileLines(dir_ + "/checkpoint.marker").size(), 1u) << ReadFile(dir_ + "/timeline");
  std::vector<std::string> timeline = FileLines(dir_ + "/timeline");
  size_t cp = timeline.size(), dr = timeline.size();
  for (size_t i = 0; i < timeline.size(); ++i) {
    if (timeline[i].rfind("checkpoint ", 0) == 0) cp = i;
    if (timeline[i].rfind("drain interruption", 0) == 0) dr = i;
  }
  EXPECT_LT(cp, dr) << ReadFile(dir_ + "/timeline");

  Advance("2m");
  sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["state"], "closed");
  EXPECT_EQ(sr["status"]["code"], "instance-terminated-no-capacity");
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "terminated");
  AwaitMorePolls(10);
  EXPECT_EQ(FileLines(dir_ + "/checkpoint.marker").size(), 1u) << ReadFile(dir_ + "/timeline");
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
  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "maintenance").size() == 1; }, kPatience))
      << agent_->Stderr();
  EXPECT_TRUE(Runs("resume", "maintenance").empty());

  // Canceled before NotBefore: the resume hooks run, once.
  Advance("1m");
  json c = Control("POST", "/v1/aws/instances/" + id + "/scheduled-events/" + event + "/cancel");
  EXPECT_EQ(c["scheduled_events"][0]["state"], "canceled") << c.dump();
  ASSERT_TRUE(WaitFor([&] { return Runs("resume", "maintenance").size() == 1; }, kPatience))
      << agent_->Stderr();
  std::vector<std::string> timeline = FileLines(dir_ + "/timeline");
  ASSERT_FALSE(timeline.empty());
  EXPECT_EQ(timeline.back().rfind("resume maintenance", 0), 0u) << ReadFile(dir_ + "/timeline");
  AwaitMorePolls(10);
  EXPECT_EQ(Runs("resume", "maintenance").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("checkpoint", "maintenance").size(), 1u);
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "running");
}

// The index in the timeline of the first line starting with `prefix`, or the timeline's size.
size_t IndexOf(const std::vector<std::string>& timeline, const std::string& prefix) {
  for (size_t i = 0; i < timeline.size(); ++i) {
    if (timeline[i].rfind(prefix, 0) == 0) return i;
  }
  return timeline.size();
}

TEST_F(EndToEndTest, AwsPersistentRequestInterruptedByACapacityDropReopensAndGetsANewInstance) {
  const std::string pool = "/v1/pools/m5.large@us-east-1a";
  // Room for 8: one instance is far from the utilisation mark that raises a rebalance.
  Control("PATCH", pool, R"({"model":{"kind":"fixed"},"price":0.035,"capacity":8})");
  json req = Control("POST", "/v1/aws/spot-requests",
                     R"({"instance_type":"m5.large","zone":"us-east-1a","type":"persistent",)"
                     R"("max_price":0.05})",
                     201);
  ASSERT_EQ(req["spot_requests"].size(), 1u) << req.dump();
  const std::string sir = req["spot_requests"][0]["id"];
  ASSERT_EQ(req["spot_requests"][0]["status"]["code"], "fulfilled") << req.dump();
  const std::string id = req["spot_requests"][0]["instance_id"];
  StartAgent("aws", id);
  AwaitMorePolls(3);
  EXPECT_TRUE(FileLines(dir_ + "/timeline").empty());

  // Capacity drops: two minutes' notice for the only instance.
  Control("PATCH", pool, R"({"capacity":0})");
  Advance("0s");
  json sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["status"]["code"], "marked-for-termination") << sr.dump();
  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "interruption").size() == 1; }, kPatience))
      << agent_->Stderr();
  // Checkpoint then drain, both before the termination (the instance still runs). The instance
  // is checkpointed once: by the interruption, or by the rebalance recommendation raised with it,
  // whose running checkpoint the interruption adopts.
  ASSERT_EQ(FileLines(dir_ + "/checkpoint.marker").size(), 1u) << ReadFile(dir_ + "/timeline");
  std::vector<std::string> timeline = FileLines(dir_ + "/timeline");
  const size_t cp = IndexOf(timeline, "checkpoint ");
  const size_t dr = IndexOf(timeline, "drain interruption aws-interruption " + id);
  EXPECT_LT(cp, dr) << ReadFile(dir_ + "/timeline");
  EXPECT_LT(dr, timeline.size()) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "running");

  // At the deadline the instance ends and the persistent request opens again (EC2's spot
  // request lifecycle: instance-terminated-no-capacity is "open again" for a persistent request).
  Advance("2m");
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "terminated");
  sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["state"], "open") << sr.dump();
  // Re-evaluated at once: still no room, so it waits as capacity-not-available (also "open").
  EXPECT_EQ(sr["status"]["code"], "capacity-not-available") << sr.dump();
  std::vector<std::string> states;
  const json events = Control("GET", "/v1/events?limit=1000");  // (a temporary would dangle)
  for (const json& e : events["events"]) {
    if (e.value("id", "") == sir) states.push_back(e.value("new_state", ""));
  }
  EXPECT_NE(std::find(states.begin(), states.end(), "open/instance-terminated-no-capacity"),
            states.end())
      << ::testing::PrintToString(states);
  AwaitMorePolls(5);
  EXPECT_EQ(FileLines(dir_ + "/checkpoint.marker").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("drain", "interruption").size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_TRUE(agent_->running());

  // Capacity returns: the request is fulfilled again, with a new instance.
  Control("PATCH", pool, R"({"capacity":8})");
  Advance("0s");
  sr = Control("GET", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(sr["state"], "active") << sr.dump();
  EXPECT_EQ(sr["status"]["code"], "fulfilled") << sr.dump();
  ASSERT_TRUE(sr["instance_id"].is_string()) << sr.dump();
  const std::string fresh = sr["instance_id"];
  EXPECT_NE(fresh, id);
  EXPECT_EQ(Control("GET", "/v1/instances/" + fresh)["state"], "running");

  // An agent on the new instance sees no notice and runs nothing.
  AgentOptions second;
  second.tag = "fresh";
  StartAgent("aws", fresh, second);
  const uint64_t from = Polls("fresh");
  ASSERT_TRUE(WaitFor([&] { return Polls("fresh") >= from + 5; }, kPatience)) << second_->Stderr();
  const json status = AgentStatus("fresh");
  EXPECT_TRUE(status["handler"]["notices"].empty()) << status.dump();
  EXPECT_TRUE(status["last_poll"]["notices"].empty()) << status.dump();
  for (const std::string& line : FileLines(dir_ + "/timeline")) {
    EXPECT_EQ(line.find(fresh), std::string::npos) << line;
  }
  EXPECT_TRUE(second_->running());
}

TEST_F(EndToEndTest, AwsRebalanceThenInterruptionRunEachOnceInOrderAndTheRebalanceIsNotResumed) {
  const std::string pool = "/v1/pools/m5.large@us-east-1a";
  Control("PATCH", pool, R"({"model":{"kind":"fixed"},"price":0.035,"capacity":8})");
  json req = Control("POST", "/v1/aws/spot-requests",
                     R"({"instance_type":"m5.large","zone":"us-east-1a","max_price":0.05})", 201);
  ASSERT_EQ(req["spot_requests"].size(), 1u) << req.dump();
  const std::string id = req["spot_requests"][0]["instance_id"];
  StartAgent("aws", id);
  AwaitMorePolls(3);

  // The rebalance recommendation: the test config gives it a checkpoint (no drain).
  Control("POST", "/v1/aws/instances/" + id + "/rebalance");
  ASSERT_TRUE(WaitFor([&] { return Runs("checkpoint", "rebalance").size() == 1; }, kPatience))
      << agent_->Stderr();
  AwaitMorePolls(3);
  EXPECT_TRUE(Runs("drain", "rebalance").empty());

  // Then the interruption: capacity gone.
  Control("PATCH", pool, R"({"capacity":0})");
  Advance("0s");
  ASSERT_TRUE(WaitFor([&] { return Runs("drain", "interruption").size() == 1; }, kPatience))
      << agent_->Stderr();
  std::vector<std::string> timeline = FileLines(dir_ + "/timeline");
  ASSERT_EQ(timeline.size(), 3u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(timeline[0].rfind("checkpoint rebalance aws-rebalance " + id, 0), 0u) << timeline[0];
  EXPECT_EQ(timeline[1].rfind("checkpoint interruption aws-interruption " + id, 0), 0u)
      << timeline[1];
  EXPECT_EQ(timeline[2].rfind("drain interruption aws-interruption " + id, 0), 0u) << timeline[2];

  // Terminated at the deadline: the metadata answers 404 everywhere, both notices vanish. The
  // interruption ended after its deadline and the rebalance was superseded: no resume at all.
  Advance("2m");
  EXPECT_EQ(Control("GET", "/v1/instances/" + id)["state"], "terminated");
  ASSERT_TRUE(WaitFor(
      [&] { return CountOf(agent_->Stderr(), "superseded by aws-interruption") == 1; }, kPatience))
      << agent_->Stderr();
  AwaitMorePolls(10);
  EXPECT_EQ(FileLines(dir_ + "/timeline"), timeline) << ReadFile(dir_ + "/timeline");
  EXPECT_TRUE(Runs("resume", "rebalance").empty());
  EXPECT_TRUE(Runs("resume", "interruption").empty());
  EXPECT_EQ(CountOf(agent_->Stderr(), "superseded by aws-interruption"), 1u) << agent_->Stderr();
  const json status = AgentStatus();
  for (const json& n : status["handler"]["notices"]) {
    EXPECT_EQ(n["finished"], true) << n.dump();
  }
  EXPECT_TRUE(agent_->running());
}

// Faults on the notice paths of an agent's instance, before and while the notice is raised.
struct FaultCase {
  std::string cloud;  // "aws" or "alibaba"
  std::string name;   // "5xx", "timeout", "malformed", "token_expiry"
};
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.cloud << " " << c.name; }

class FaultEndToEndTest : public EndToEndTest, public ::testing::WithParamInterface<FaultCase> {
 protected:
  // The rule (minus instance and path) and how many requests it spoils. Each count covers
  // several polls, so the fault is on before the notice and still on while it is up.
  static std::vector<json> Rules(const std::string& fault) {
    if (fault == "5xx") {
      return {{{"kind", "error"}, {"status", 500}, {"count", 4}},
              {{"kind", "error"}, {"status", 503}, {"count", 12}}};
    }
    if (fault == "timeout") {  // well above the agent's request_timeout (150ms)
      return {{{"kind", "latency"}, {"latency", "600ms"}, {"count", 8}}};
    }
    if (fault == "malformed") return {{{"kind", "malformed"}, {"count", 14}}};
    return {{{"kind", "expire-tokens"}, {"count", 16}}};
  }

  // Posts the rules for `path` of `instance`; returns their ids.
  std::vector<std::string> Inject(const std::string& instance, const std::string& path) {
    std::vector<std::string> ids;
    for (json rule : Rules(GetParam().name)) {
      rule["instance"] = instance;
      rule["path"] = path;
      json made = Control("POST", "/v1/faults", rule.dump(), 201);
      ids.push_back(made["id"].dump());  // a number
    }
    return ids;
  }

  // fired counts of the live rules by id (a rule whose count is used up is gone).
  std::map<std::string, uint64_t> Live() {
    std::map<std::string, uint64_t> out;
    const json faults = Control("GET", "/v1/faults");
    for (const json& f : faults["faults"]) {
      out[f["id"].dump()] = f.value("fired", uint64_t{0});
    }
    return out;
  }
  uint64_t Fired(const std::vector<std::string>& ids) {
    uint64_t n = 0;
    for (const auto& [id, fired] : Live()) {
      if (std::find(ids.begin(), ids.end(), id) != ids.end()) n += fired;
    }
    return n;
  }
  bool AnyLive(const std::vector<std::string>& ids) {
    const auto live = Live();
    return std::any_of(ids.begin(), ids.end(),
                       [&](const std::string& id) { return live.count(id) > 0; });
  }
};

TEST_P(FaultEndToEndTest, AgentRidesOutTheFaultAndRunsCheckpointThenDrainOnce) {
  const FaultCase& c = GetParam();
  // A request timeout with room for a loaded machine (the compiler next door): a real timeout
  // on another path would be a second, unrelated error episode.
  AgentOptions options;
  options.interval = "200ms";
  options.request_timeout = "150ms";
  options.poll_extra = "max_backoff = \"400ms\"\n";
  if (c.cloud == "alibaba") options.provider_extra = "token = \"required\"\n";
  // The path the notice comes from: the fault's episode names it.
  const std::string path =
      c.cloud == "aws" ? "spot/instance-action" : "instance/spot/termination-time";
  std::string id, kind, pool;
  std::vector<std::string> notice_rules, other_rules;
  if (c.cloud == "aws") {
    kind = "interruption";
    pool = "/v1/pools/m5.large@us-east-1a";
    Control("PATCH", pool, R"({"model":{"kind":"fixed"},"price":0.035,"capacity":8})");
    json req = Control("POST", "/v1/aws/spot-requests",
                       R"({"instance_type":"m5.large","zone":"us-east-1a","max_price":0.05})", 201);
    ASSERT_EQ(req["spot_requests"].size(), 1u) << req.dump();
    id = req["spot_requests"][0]["instance_id"];
    Control("PATCH", "/v1/instances/" + id, R"({"http_tokens":"required"})");
    StartAgent("aws", id, options);
    AwaitMorePolls(2);
    notice_rules = Inject(id, "/latest/meta-data/spot/*");
    other_rules = Inject(id, "/latest/meta-data/events/recommendations/*");
  } else {
    kind = "release";
    json made = Control("POST", "/v1/alibaba/instances",
                        R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge",)"
                        R"("spot_strategy":"SpotAsPriceGo","http_tokens":"required"})",
                        201);
    ASSERT_EQ(made["InstanceIdSets"]["InstanceIdSet"].size(), 1u) << made.dump();
    id = made["InstanceIdSets"]["InstanceIdSet"][0];
    StartAgent("alibaba", id, options);
    AwaitMorePolls(2);
    notice_rules = Inject(id, "/latest/meta-data/instance/spot/*");
  }
  ASSERT_FALSE(HasFailure());
  std::vector<std::string> all = notice_rules;
  all.insert(all.end(), other_rules.begin(), other_rules.end());

  // The fault is on before the notice: the agent has met it.
  ASSERT_TRUE(WaitFor([&] { return Fired(notice_rules) >= 2; }, kPatience)) << agent_->Stderr();
  if (c.cloud == "aws") {
    Control("PATCH", pool, R"({"capacity":0})");
    Advance("0s");
  } else {
    Control("POST", "/v1/alibaba/instances/" + id + "/recycle");
  }
  // ... and while it is up. While the notice path is still spoilt no hook can have run for it
  // (read the hooks first: if the rule is live afterwards, it was live then too).
  const uint64_t at_notice = Fired(notice_rules);
  bool checked_while_live = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        const bool none_ran = Runs("checkpoint", kind).empty();
        if (!AnyLive(notice_rules)) return true;
        if (Fired(notice_rules) < at_notice + 2) return false;
        EXPECT_TRUE(none_ran) << ReadFile(dir_ + "/timeline");
        checked_while_live = true;
        return true;
      },
      kPatience))
      << agent_->Stderr();
  EXPECT_TRUE(checked_while_live) << "the fault ran out before the agent met it with the notice";

  // The fault runs out; the notice is handled, once.
  ASSERT_TRUE(WaitFor([&] { return !AnyLive(all); }, kPatience)) << agent_->Stderr();
  ASSERT_TRUE(WaitFor([&] { return Runs("drain", kind).size() == 1; }, kPatience))
      << agent_->Stderr();
  const std::string failed = "metadata poll failed (backing off, logged once): ";
  const std::string recovered = "metadata polls succeed again ";
  ASSERT_TRUE(WaitFor([&] { return LinesWith(agent_->Stderr(), recovered, path) >= 1; }, kPatience))
      << agent_->Stderr();
  AwaitMorePolls(5);
  std::vector<std::string> timeline = FileLines(dir_ + "/timeline");
  const std::string notice = c.cloud == "aws" ? "aws-interruption " + id : "alibaba-release " + id;
  const size_t cp = IndexOf(timeline, "checkpoint " + kind + " " + notice);
  const size_t dr = IndexOf(timeline, "drain " + kind + " " + notice);
  EXPECT_LT(cp, dr) << ReadFile(dir_ + "/timeline");
  EXPECT_LT(dr, timeline.size()) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("checkpoint", kind).size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_EQ(Runs("drain", kind).size(), 1u) << ReadFile(dir_ + "/timeline");
  EXPECT_TRUE(FileLines(dir_ + "/resume.marker").empty()) << ReadFile(dir_ + "/timeline");

  // One error episode, logged once when it starts and once when it ends (the lines name the
  // episode's first errors: the fault's name the notice path; a stray timeout of a loaded
  // machine on another path would be an episode of its own, and is not this test's business).
  const std::string err = agent_->Stderr();
  EXPECT_EQ(LinesWith(err, failed, path), 1u) << err;
  EXPECT_EQ(LinesWith(err, recovered, path), 1u) << err;
  EXPECT_GT(AgentStatus().value("poll_errors", uint64_t{0}), 0u);
  EXPECT_EQ(AgentStatus()["last_poll"]["ok"], true);
  EXPECT_TRUE(agent_->running());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, FaultEndToEndTest,
    ::testing::Values(FaultCase{"aws", "5xx"}, FaultCase{"aws", "timeout"},
                      FaultCase{"aws", "malformed"}, FaultCase{"aws", "token_expiry"},
                      FaultCase{"alibaba", "5xx"}, FaultCase{"alibaba", "timeout"},
                      FaultCase{"alibaba", "malformed"}, FaultCase{"alibaba", "token_expiry"}),
    [](const ::testing::TestParamInfo<FaultCase>& p) {
      return p.param.cloud + "_" + p.param.name;
    });

// The fault matrix (issue 10): seeded trials of real mockmeta + real lastcalld, both clouds,
// every IMDS fault kind at a rate, on the notice path or on all paths, with kill -9 of the
// agent at a moment of the notice's handling. Hooks record "start|end <phase> <notice id>" as
// real processes, so the assertions are exact. Trial i has scenario i % 6 (kMatrixScenarios), so
// every six trials cover each once. LASTCALL_MATRIX_TRIALS (default 6) and LASTCALL_MATRIX_SEED
// (default 1) choose the trials (docs/development.md).
struct MatrixTrial {
  int index = 0;
  std::string cloud, fault;
  double rate = 0;  // 1.0: every request fails, for a bounded count (scenario "burst")
  bool all_paths = false;
  std::string kill;  // "", "before", "checkpoint", "between", "drain", "after"
  std::string scenario;
};

// "": the fault alone. "clock-ahead"/"clock-behind": mockmeta's virtual clock starts 3 h ahead
// of / behind the host's, and the agent restarts (a kill is forced). "burst": the fault at rate
// 1.0 for a bounded count, then recovery. "hidden-rebalance" (AWS): the rebalance path fails in
// every poll until the agent has seen the interruption; afterwards the instance is terminated
// and answers 404. "moving-notice" (AWS): instance-action's time is now + 2 min on every request
// (amazon-ec2-metadata-mock's default mode) while the virtual clock runs.
const std::vector<std::string> kMatrixScenarios = {"",      "clock-ahead",      "clock-behind",
                                                   "burst", "hidden-rebalance", "moving-notice"};

std::vector<MatrixTrial> MatrixTrials() {
  const char* n_env = std::getenv("LASTCALL_MATRIX_TRIALS");
  const char* seed_env = std::getenv("LASTCALL_MATRIX_SEED");
  const int n = n_env ? static_cast<int>(std::strtol(n_env, nullptr, 10)) : 6;
  std::mt19937 rng(seed_env ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10)) : 1u);
  const std::vector<std::string> faults = {"error500", "error503",  "error429",      "latency",
                                           "drop",     "malformed", "expire-tokens", "flap"};
  const std::vector<double> rates = {0.1, 0.5, 0.9};
  const std::vector<std::string> kills = {"", "before", "checkpoint", "between", "drain", "after"};
  std::vector<MatrixTrial> out;
  for (int i = 0; i < n; ++i) {
    MatrixTrial t;
    t.index = i;
    // Alternates, and each scenario meets both clouds over rounds of six.
    t.cloud = (i + i / 6) % 2 == 0 ? "aws" : "alibaba";
    t.fault = faults[rng() % faults.size()];
    t.rate = rates[rng() % rates.size()];
    t.all_paths = rng() % 2 == 1;
    t.kill = kills[rng() % kills.size()];
    t.scenario = kMatrixScenarios[i % kMatrixScenarios.size()];
    if (t.scenario == "burst") t.rate = 1.0;
    if (t.scenario == "hidden-rebalance" || t.scenario == "moving-notice") t.cloud = "aws";
    if (t.scenario == "hidden-rebalance") t.kill = "";  // its own sequence is the point
    if (t.scenario.rfind("clock-", 0) == 0 && t.kill.empty()) t.kill = "between";
    out.push_back(t);
  }
  return out;
}
void PrintTo(const MatrixTrial& t, std::ostream* os) {
  *os << t.cloud << " " << t.fault << "@" << t.rate << (t.all_paths ? " all" : " notice")
      << " kill=" << t.kill << (t.scenario.empty() ? "" : " " + t.scenario);
}

class FaultMatrixTest : public EndToEndTest, public ::testing::WithParamInterface<MatrixTrial> {
 protected:
  void SetUp() override {
    EndToEndTest::SetUp();
    for (const char* phase : {"checkpoint", "drain", "resume"}) {
      const std::string path = dir_ + "/hooks.d/" + phase + "/10-mark";
      std::ofstream(path) << "#!/bin/sh\n"
                          << "echo \"start $LASTCALL_PHASE $LASTCALL_NOTICE_ID\" >> " << Events()
                          << "\nsleep 0.4\n"
                          << "echo \"end $LASTCALL_PHASE $LASTCALL_NOTICE_ID\" >> " << Events()
                          << "\n";
      ::chmod(path.c_str(), 0755);
    }
  }
  std::string Events() const { return dir_ + "/events"; }
  // Whether the agent has recorded `phase` of `notice` as ended (status.json): a kill after
  // this is "between phases" or "after", not inside the phase.
  bool Recorded(const std::string& notice, const std::string& phase) const {
    for (const json& n :
         AgentStatus().value("handler", json::object()).value("notices", json::array())) {
      if (n.value("id", "").rfind(notice, 0) != 0) continue;  // prefix: older ids too
      const json p = n.value("phases", json::object()).value(phase, json::object());
      if (p.is_object() && p.contains("ended") && !p["ended"].is_null()) return true;
    }
    return false;
  }
  size_t Seen(const std::string& line) const {
    const std::vector<std::string> l = FileLines(Events());
    return static_cast<size_t>(std::count(l.begin(), l.end(), line));
  }
  // Lines starting with `prefix`, for any notice.
  size_t SeenAny(const std::string& prefix) const {
    const std::vector<std::string> l = FileLines(Events());
    return static_cast<size_t>(std::count_if(
        l.begin(), l.end(), [&](const std::string& x) { return x.rfind(prefix, 0) == 0; }));
  }
  json Rule(const MatrixTrial& t, const std::string& instance) const {
    // Rate 1.0 is bounded: every matching request fails, 12 times, then the rule is gone.
    json r = {{"instance", instance}, {"count", t.rate >= 1.0 ? 12 : 60}};
    if (t.rate < 1.0) r["probability"] = t.rate;
    const std::string notice =
        t.cloud == "aws" ? "/latest/meta-data/spot/*" : "/latest/meta-data/instance/spot/*";
    r["path"] = t.all_paths ? "/latest/*" : notice;
    if (t.fault.rfind("error", 0) == 0) {
      r["kind"] = "error";
      r["status"] = std::stoi(t.fault.substr(5));
    } else if (t.fault == "latency") {
      r["kind"] = "latency";
      r["latency"] = "400ms";  // above the agent's request timeout
    } else {
      r["kind"] = t.fault;
    }
    return r;
  }
  // Restarts mockmeta's market (market-basics: both clouds' pools) with its manual virtual clock
  // at the host's time + `offset`.
  void LoadMarketAt(std::chrono::system_clock::duration offset) {
    std::string toml = ReadFile(SourceDir() + "/etc/scenarios/market-basics.toml");
    const size_t at = toml.find("\nstart = \"");
    ASSERT_NE(at, std::string::npos);
    const size_t end = toml.find('\n', at + 1);
    const std::time_t tt =
        std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
    std::tm g{};
    ::gmtime_r(&tt, &g);
    char start[32];
    std::strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &g);
    toml.replace(at, end - at, "\nstart = \"" + std::string(start) + "\"");
    const json loaded = Control("POST", "/v1/scenario", toml);
    ASSERT_EQ(loaded.value("start", ""), start) << loaded.dump();
  }
};

// Moves mockmeta's virtual clock by 1 s every 250 ms until destroyed (at most `limit` ticks):
// the pace of a running clock, not a wait for an event.
class ClockTicker {
 public:
  ClockTicker(std::function<void()> tick, int limit)
      : thread_([tick = std::move(tick), limit](const std::stop_token& stop) {
          std::mutex m;
          std::condition_variable_any cv;
          std::unique_lock lock(m);
          for (int i = 0; i < limit; ++i) {
            if (cv.wait_for(lock, stop, milliseconds(250), [] { return false; })) return;
            if (stop.stop_requested()) return;
            tick();
          }
        }) {}

 private:
  std::jthread thread_;
};

TEST_P(FaultMatrixTest, EachNoticeIsCheckpointedAndDrainedExactlyOnce) {
  const MatrixTrial& t = GetParam();
  AgentOptions options;
  options.interval = "200ms";
  options.request_timeout = "150ms";
  options.poll_extra = "max_backoff = \"400ms\"\n";
  std::string id, notice, pool;
  if (t.scenario == "clock-ahead") LoadMarketAt(std::chrono::hours(3));
  if (t.scenario == "clock-behind") LoadMarketAt(-std::chrono::hours(3));
  ASSERT_FALSE(HasFailure());
  if (t.cloud == "aws") {
    notice = "aws-interruption";
    pool = "/v1/pools/m5.large@us-east-1a";
    Control("PATCH", pool, R"({"model":{"kind":"fixed"},"price":0.035,"capacity":8})");
    json req = Control("POST", "/v1/aws/spot-requests",
                       R"({"instance_type":"m5.large","zone":"us-east-1a","max_price":0.05})", 201);
    ASSERT_EQ(req["spot_requests"].size(), 1u) << req.dump();
    id = req["spot_requests"][0]["instance_id"];
  } else {
    notice = "alibaba-release";
    json made = Control("POST", "/v1/alibaba/instances",
                        R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge",)"
                        R"("spot_strategy":"SpotAsPriceGo"})",
                        201);
    ASSERT_EQ(made["InstanceIdSets"]["InstanceIdSet"].size(), 1u) << made.dump();
    id = made["InstanceIdSets"]["InstanceIdSet"][0];
  }
  StartAgent(t.cloud, id, options);
  AwaitMorePolls(2);
  Control("POST", "/v1/faults", Rule(t, id).dump(), 201);
  if (t.scenario == "moving-notice") {
    Control("POST", "/v1/faults",
            json{{"instance", id}, {"path", "/latest/meta-data/spot/*"}, {"kind", "moving-notice"}}
                .dump(),
            201);
  }
  // Phases a kill cut (started, not yet recorded as ended): they may run again (documented).
  std::set<std::string> cut;
  auto kill_and_restart = [&] {
    std::map<std::string, bool> started;
    for (const char* phase : {"checkpoint", "drain"}) {
      started[phase] = SeenAny(std::string("start ") + phase + " ") > 0;
    }
    agent_->Kill9();
    for (const char* phase : {"checkpoint", "drain"}) {
      if (started[phase] && !Recorded(notice, phase)) cut.insert(phase);
    }
    StartAgent(t.cloud, id, options);
  };
  if (t.kill == "before") kill_and_restart();
  std::string hidden;  // the rule that hides the rebalance (hidden-rebalance)
  if (t.scenario == "hidden-rebalance") {
    json r = Rule(t, id);
    r.erase("probability");
    r.erase("count");
    if (r["kind"] == "expire-tokens" || r["kind"] == "flap")
      r = {{"kind", "error"}, {"status", 503}};
    r["instance"] = id;
    r["path"] = "/latest/meta-data/events/recommendations/*";
    hidden = Control("POST", "/v1/faults", r.dump(), 201)["id"].dump();
  }
  if (t.cloud == "aws") {
    Control("PATCH", pool, R"({"capacity":0})");
    Advance("0s");
  } else {
    Control("POST", "/v1/alibaba/instances/" + id + "/recycle");
  }
  const auto raised = std::chrono::steady_clock::now();
  const milliseconds limit(45000);
  // The notice stays up (< 2 min of virtual time: mockmeta terminates at the first time).
  std::optional<ClockTicker> ticker;
  // The notice's time as IMDS serves it; asks again while the trial's own fault spoils it.
  const auto action_time = [&] {
    std::string time;
    WaitFor(
        [&] {
          auto r = Http(mock_->imds(), "GET", "/" + id + "/latest/meta-data/spot/instance-action");
          if (!r || r->status != 200) return false;
          const json j = json::parse(r->body, nullptr, false);
          if (!j.is_object()) return false;  // malformed
          time = j.value("time", "");
          return true;
        },
        kPatience);
    return time;
  };
  const std::string first_time = t.scenario == "moving-notice" ? action_time() : "";
  if (t.scenario == "moving-notice") ticker.emplace([&] { Advance("1s"); }, 100);
  if (!hidden.empty()) {
    const auto hidden_fired = [&] {
      const json faults = Control("GET", "/v1/faults");  // the loop must not outlive it
      for (const json& f : faults["faults"]) {
        if (f["id"].dump() == hidden) return f.value("fired", uint64_t{0});
      }
      return uint64_t{0};
    };
    // The poll that sees the interruption misses the rebalance: the rule stays until a request
    // of a later poll failed too (hooks may start before the poll's last request).
    ASSERT_TRUE(WaitFor([&] { return SeenAny("start checkpoint " + notice) >= 1; }, limit))
        << ReadFile(Events()) << agent_->Stderr();
    const uint64_t at_detection = hidden_fired();
    ASSERT_TRUE(WaitFor([&] { return hidden_fired() > at_detection; }, limit));
    Control("DELETE", "/v1/faults/" + hidden);
  }
  if (t.kill == "checkpoint") {
    // The rebalance's checkpoint counts: the interruption may adopt it.
    ASSERT_TRUE(WaitFor([&] { return SeenAny("start checkpoint ") >= 1; }, limit));
    kill_and_restart();
  } else if (t.kill == "between") {
    ASSERT_TRUE(WaitFor([&] { return Recorded(notice, "checkpoint"); }, limit));
    kill_and_restart();
  } else if (t.kill == "drain") {
    ASSERT_TRUE(WaitFor([&] { return SeenAny("start drain " + notice) >= 1; }, limit));
    kill_and_restart();
  }
  long long detect_ms = -1;
  if (WaitFor([&] { return SeenAny("start checkpoint ") + SeenAny("start drain ") > 0; }, limit)) {
    detect_ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - raised).count();
  }
  const bool drained = WaitFor([&] { return SeenAny("end drain " + notice) >= 1; }, limit);
  EXPECT_TRUE(drained) << ReadFile(Events()) << agent_->Stderr();
  if (drained && t.kill == "after") {
    ASSERT_TRUE(WaitFor([&] { return Recorded(notice, "drain"); }, limit));
    kill_and_restart();
  }
  if (ticker) {
    ticker.reset();
    const std::string last_time = action_time();
    EXPECT_FALSE(last_time.empty());
    EXPECT_NE(last_time, first_time) << "the notice time did not move";
  }
  if (t.scenario.rfind("clock-", 0) == 0) {
    // The restarted agent judges deadlines by the server's clock, 3 h off the host's.
    const json skew = AgentStatus().value("clock_skew_ms", json());
    ASSERT_TRUE(skew.is_number()) << AgentStatus().dump();
    EXPECT_GT(std::abs(skew.get<double>()), 2.5 * 3600 * 1000) << skew;
    EXPECT_EQ(skew.get<double>() > 0, t.scenario == "clock-ahead") << skew;
  }
  Control("DELETE", "/v1/faults");
  if (t.scenario == "hidden-rebalance" && drained) {
    // The rebalance is visible now; then the instance is terminated and answers 404.
    AwaitMorePolls(4);
    Advance("3m");
    ASSERT_TRUE(WaitFor(
        [&] {
          auto r = Http(mock_->imds(), "GET", "/" + id + "/latest/meta-data/instance-id");
          return r && r->status == 404;
        },
        kPatience));
  }
  AwaitMorePolls(8);
  // A phase cut by a kill may run again (docs/lastcalld.md); never twice at the same time.
  const std::vector<std::string> events = FileLines(Events());
  std::map<std::string, int> open;
  size_t overlaps = 0, strangers = 0, resumes = 0;
  std::set<std::string> ids;  // of the notice: one, however its time moves
  for (const std::string& e : events) {
    std::istringstream in(e);
    std::string what, phase, nid;
    in >> what >> phase >> nid;
    // AWS raises the rebalance recommendation with the interruption (mockmeta does too).
    const bool real =
        nid.rfind(notice, 0) == 0 || (t.cloud == "aws" && nid.rfind("aws-rebalance", 0) == 0);
    strangers += !real;
    if (nid.rfind(notice, 0) == 0) ids.insert(nid);
    EXPECT_TRUE(real) << "hook for a notice that does not exist: " << e;
    if (phase == "resume" && what == "start") ++resumes;
    if (what == "start") {
      overlaps += open[phase]++ > 0;
    } else {
      --open[phase];
    }
  }
  EXPECT_EQ(overlaps, 0u) << "a phase twice at once:\n" << ReadFile(Events());
  EXPECT_EQ(resumes, 0u) << "resume although the notice never left:\n" << ReadFile(Events());
  EXPECT_LE(ids.size(), 1u) << "one notice seen as several:\n" << ReadFile(Events());
  const size_t cp = SeenAny("end checkpoint " + notice), dr = SeenAny("end drain " + notice);
  const size_t rb = SeenAny("end checkpoint aws-rebalance");
  // The interruption may have adopted the rebalance's checkpoint (it ran at the same time).
  const bool adopted = cp == 0 && rb > 0;
  const size_t cp_max = cut.count("checkpoint") ? 2 : 1, dr_max = cut.count("drain") ? 2 : 1;
  size_t doubled = overlaps + (ids.size() > 1) + (cp > cp_max) + (dr > dr_max) +
                   (rb > (t.kill.empty() ? 1u : 2u));
  const bool missed = dr == 0 || (cp == 0 && !adopted);
  EXPECT_FALSE(missed) << ReadFile(Events());
  EXPECT_EQ(doubled, 0u) << ReadFile(Events());
  const bool crashed = !agent_->running();
  EXPECT_FALSE(crashed);
  // One line per trial for bench/fault_matrix.sh to aggregate.
  std::cerr << "MATRIX-RESULT "
            << json{{"cloud", t.cloud},         {"fault", t.fault},   {"rate", t.rate},
                    {"all_paths", t.all_paths}, {"kill", t.kill},     {"scenario", t.scenario},
                    {"missed", missed},         {"doubled", doubled}, {"wrong_resumes", resumes},
                    {"strangers", strangers},   {"crashed", crashed}, {"detect_ms", detect_ms}}
                   .dump()
            << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Matrix, FaultMatrixTest, ::testing::ValuesIn(MatrixTrials()),
                         [](const ::testing::TestParamInfo<MatrixTrial>& p) {
                           std::string s = p.param.scenario;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return "t" + std::to_string(p.param.index) + "_" + p.param.cloud +
                                  (s.empty() ? "" : "_" + s);
                         });

}  // namespace
}  // namespace lastcall::testing
