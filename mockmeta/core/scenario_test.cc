#include "mockmeta/core/scenario.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kGood = R"(
seed = 42
start = "2026-04-07T00:00:00Z"

[[zone]]
name = "cn-hangzhou-b"
region = "cn-hangzhou"

[[instance_type]]
name = "ecs.c5.8xlarge"
vcpu = 32
memory_gib = 64
on_demand_price = 1.52

[[pool]]
type = "ecs.c5.8xlarge"
zone = "cn-hangzhou-b"
capacity = 10
[pool.model]
kind = "walk"
step = "5m"
mean = 0.152
floor = 0.1
volatility = 0.05

[[action]]
at = "1h"
kind = "set_capacity"
pool = "ecs.c5.8xlarge@cn-hangzhou-b"
capacity = 2

[[action]]
at = "2026-04-07T02:00:00Z"
kind = "set_model"
pool = "ecs.c5.8xlarge@cn-hangzhou-b"
model = { kind = "trace", steps = [ { at = "0s", price = 0.5 }, { at = "30m", price = 0.6 } ], loop = true, period = "1h" }
)";

TEST(ScenarioTest, LoadsCatalogPoolsAndActions) {
  auto m = LoadScenarioText(kGood, "good.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  World& market = **m;
  EXPECT_EQ(market.seed(), 42u);
  EXPECT_EQ(FormatRfc3339(market.now()), "2026-04-07T00:00:00Z");
  const Pool* p = market.catalog().FindPool("ecs.c5.8xlarge@cn-hangzhou-b");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->capacity, 10);
  EXPECT_DOUBLE_EQ(p->price, 0.152);  // a walk starts at its mean
  EXPECT_EQ(market.pending_actions(), 2u);
  ASSERT_TRUE(market.AdvanceTo(market.start() + hours(3)).ok());
  EXPECT_EQ(p->capacity, 2);
  EXPECT_EQ(p->model.kind, PriceModelKind::kTrace);
  EXPECT_DOUBLE_EQ(p->PriceAt(market.start() + hours(2) + minutes(10)), 0.5);
  EXPECT_DOUBLE_EQ(p->PriceAt(market.start() + hours(2) + minutes(40)), 0.6);
  EXPECT_DOUBLE_EQ(p->price, 0.5);  // looped back at 3h
}

TEST(ScenarioTest, SameScenarioReplaysTheSameLog) {
  auto a = LoadScenarioText(kGood, "good.toml");
  auto b = LoadScenarioText(kGood, "good.toml");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->AdvanceTo((*a)->start() + hours(5)).ok());
  for (int i = 1; i <= 60; ++i) ASSERT_TRUE((*b)->AdvanceTo((*b)->start() + minutes(5 * i)).ok());
  ASSERT_EQ((*a)->log().size(), (*b)->log().size());
  for (size_t i = 0; i < (*a)->log().size(); ++i) {
    const Event& x = (*a)->log().all()[i];
    const Event& y = (*b)->log().all()[i];
    EXPECT_EQ(x.time, y.time);
    EXPECT_EQ(x.new_state, y.new_state);
  }
}

// Loads `text` and expects an error message containing each of `parts`.
void ExpectError(const std::string& text, std::initializer_list<const char*> parts) {
  auto m = LoadScenarioText(text, "bad.toml");
  ASSERT_FALSE(m.ok()) << text;
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  for (const char* part : parts) {
    EXPECT_NE(m.status().message().find(part), std::string::npos)
        << "missing \"" << part << "\" in: " << m.status().message();
  }
}

constexpr const char* kCatalog = R"([[zone]]
name = "z1"
region = "r1"
[[instance_type]]
name = "t1"
vcpu = 2
memory_gib = 4
on_demand_price = 1.0
)";  // 8 lines

TEST(ScenarioTest, ErrorsNameFileLineColumnAndKey) {
  ExpectError("seed = 1\nbogus = 2\n", {"bad.toml:2:1", "bogus", "unknown key"});
  ExpectError("seed = \"x\"\n", {"bad.toml:1:8", "seed", "integer"});
  ExpectError("start = \"yesterday\"\n", {"bad.toml:1:9", "start"});
  ExpectError("[[zone]]\nname = \"z\"\n", {"bad.toml:1:1", "zone[0].region", "missing"});
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = -3\n"
                  "price = 0.1\n",
              {"bad.toml:12:12", "pool[0].capacity"});
  ExpectError(std::string(kCatalog) + "[[pool]]\ntype = \"t9\"\nzone = \"z1\"\ncapacity = 1\n",
              {"bad.toml:10:8", "pool[0].type", "unknown instance type \"t9\""});
  ExpectError(
      std::string(kCatalog) + "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\nprice = 1.5\n",
      {"bad.toml:13:9", "pool[0].price", "on-demand"});
  ExpectError(std::string(kCatalog) + "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n",
              {"bad.toml:9:1", "pool[0].price", "fixed"});
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n"
                  "model = { kind = \"lunar\" }\n",
              {"bad.toml:13:18", "pool[0].model.kind", "lunar"});
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n"
                  "model = { kind = \"trace\", steps = [{ at = \"0s\", price = 3.0 }] }\n",
              {"bad.toml:13:9", "pool[0].model", "steps[0].price"});
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n"
                  "price = 0.5\n[[action]]\nat = \"1h\"\nkind = \"set_price\"\n"
                  "pool = \"t1@z2\"\nprice = 0.1\n",
              {"bad.toml:17:8", "action[0].pool", "no pool \"t1@z2\""});
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n"
                  "price = 0.5\n[[action]]\nat = \"soon\"\nkind = \"set_price\"\n"
                  "pool = \"t1@z1\"\nprice = 0.1\n",
              {"bad.toml:15:6", "action[0].at", "soon"});
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n"
                  "price = 0.5\n[[action]]\nat = \"1h\"\nkind = \"set_price\"\n"
                  "pool = \"t1@z1\"\nprice = 7.0\n",
              {"bad.toml:14:1", "action[0]", "on-demand"});
  ExpectError("[[zone]]\nname = \"z\"\nregion = \"r\"\n[[zone]]\nname = \"z\"\nregion = \"r\"\n",
              {"bad.toml:4:1", "zone[1]", "twice"});
}

TEST(ScenarioTest, AOneMillisecondWalkStepIsRefusedWithFileLine) {
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\n"
                  "model = { kind = \"walk\", step = \"1ms\", mean = 0.1, floor = 0.0, volatility "
                  "= 0.1 }\n",
              {"bad.toml:13:9", "pool[0].model", "step 1ms is shorter than 1s"});
}

TEST(ScenarioTest, NegativeZeroNulNamesAndTheYear2610AreRefused) {
  ExpectError(std::string(kCatalog) +
                  "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\nprice = -0.0\n",
              {"bad.toml:13:9", "pool[0].price", "-0.0"});
  ExpectError("[[zone]]\nname = \"z\\u0000x\"\nregion = \"r\"\n",
              {"bad.toml:2:8", "zone[0].name", "NUL"});
  ExpectError("start = \"2610-01-01T00:00:00Z\"\n", {"bad.toml:1:9", "start", "1678..2261"});
  ExpectError(
      std::string(kCatalog) + "[[pool]]\ntype = \"t1\"\nzone = \"z1\"\ncapacity = 1\nprice = nan\n",
      {"bad.toml:13:9", "pool[0].price", "finite"});
}

// {"path": FIFO} blocked the server until a writer came; /dev/zero read ~1 GB; a directory
// loaded as an empty scenario.
TEST(ScenarioTest, OnlyRegularFilesUpToTheSizeLimitAreRead) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("scenario_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto m = LoadScenarioFile(fifo);  // returns at once: no writer is waited for
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("is a FIFO"), std::string::npos) << m.status().message();
  m = LoadScenarioFile(dir.string());
  EXPECT_NE(m.status().message().find("is a directory"), std::string::npos);
  m = LoadScenarioFile("/dev/zero");
  EXPECT_NE(m.status().message().find("character device"), std::string::npos);
  const std::string big = (dir / "big.toml").string();
  {
    std::ofstream out(big);
    out << "# " << std::string(kMaxScenarioBody, 'x') << "\n";
  }
  m = LoadScenarioFile(big);
  EXPECT_NE(m.status().message().find("larger than 1048576 bytes"), std::string::npos)
      << m.status().message();
  std::filesystem::remove_all(dir);
}

TEST(ScenarioTest, InstanceSettingsReachTheMetadata) {
  Result<std::unique_ptr<World>> m = LoadScenarioText(std::string(kCatalog) + R"(
[[aws.instance]]
type = "t1"
zone = "z1"
market = "on-demand"
name = "web"
instance_profile = "web-role"
tags = { team = "web", env = "test" }
metadata_tags = true
public_ip = "203.0.113.9"
key_name = "ops"
public_key = "ssh-ed25519 AAAA ops"
user_data = "#cloud-config\n"
security_groups = ["web", "ssh"]
subnet = "subnet-0abc"
)",
                                                      "s.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ((*m)->instances().size(), 1u);
  const Instance& inst = (*m)->instances().begin()->second;
  Result<MetadataView> v = (*m)->Metadata(inst.id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->settings.instance_profile, "web-role");
  EXPECT_EQ(v->settings.tags.at("env"), "test");
  EXPECT_TRUE(v->settings.metadata_tags);
  EXPECT_EQ(v->settings.public_ip, "203.0.113.9");
  EXPECT_EQ(v->settings.user_data, "#cloud-config\n");
  EXPECT_EQ(v->settings.security_groups, (std::vector<std::string>{"web", "ssh"}));
  EXPECT_EQ(v->settings.subnet_id, "subnet-0abc");
  EXPECT_EQ(v->now, (*m)->now());
}

TEST(ScenarioTest, BadInstanceSettingsNameTheirLine) {
  const std::string head =
      std::string(kCatalog) +
      "[[aws.instance]]\ntype = \"t1\"\nzone = \"z1\"\nmarket = \"on-demand\"\n";
  ExpectError(head + "public_ip = \"1.2.3\"\n", {"bad.toml:", "aws.instance[0].public_ip", "IPv4"});
  ExpectError(head + "public_key = \"ssh-rsa AAAA\"\n", {"aws.instance[0].key_name", "required"});
  ExpectError(head + "tags = { \"a/b\" = \"x\" }\n", {"aws.instance[0].tags", "'/'"});
  ExpectError(head + "security_groups = \"web\"\n", {"aws.instance[0].security_groups", "array"});
}

TEST(ScenarioTest, SyntaxErrorsCarryTheLocation) {
  ExpectError("seed = 1\n[[zone]\n", {"bad.toml:2:"});
}

TEST(ScenarioTest, FlavorSectionsAreDispatchedToTheFlavorLoaders) {
  // The stubs accept an empty section and refuse (do not ignore) anything in it.
  EXPECT_TRUE(LoadScenarioText("[alibaba]\n[aws]\n", "x.toml").ok());
  ExpectError("[alibaba]\nfoo = 1\n", {"bad.toml:2:1", "alibaba.foo", "unknown key"});
  ExpectError("[[aws.spot_request]]\ncount = 1\n", {"bad.toml:1:", "aws.spot_request"});
  ExpectError("aws = 3\n", {"bad.toml:1:7", "aws", "must be a table"});
}

TEST(ScenarioTest, MissingFileIsNotFound) {
  auto m = LoadScenarioFile("/nonexistent/scenario.toml");
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("/nonexistent/scenario.toml"), std::string::npos);
}

// Every etc/scenarios/*.toml, found by globbing so a new file is covered without touching this
// test: it loads, runs a virtual day without a failed timed action, and keeps prices sane.
TEST(ScenarioTest, EveryShippedScenarioLoadsAndRuns) {
  const std::filesystem::path dir =
      std::filesystem::path(LASTCALL_MOCK_CORE_SOURCE_DIR) / "etc" / "scenarios";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  // The ones known when this was written, so a broken glob cannot pass with nothing found.
  for (const char* known : {"market-basics.toml", "alibaba-calm-market.toml",
                            "alibaba-price-spike-recycles-by-bid.toml", "aws-capacity-crunch.toml",
                            "aws-spot-block.toml", "demo.toml"}) {
    EXPECT_NE(std::find(files.begin(), files.end(), dir / known), files.end()) << known;
  }
  for (const std::filesystem::path& file : files) {
    SCOPED_TRACE(file.string());
    auto m = LoadScenarioFile(file.string());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE((*m)->AdvanceTo((*m)->start() + hours(24)).ok());
    EXPECT_GT((*m)->log().size(), 2u);
    for (const Event& e : (*m)->log().all()) {
      EXPECT_NE(e.kind, kind::kAction) << e.id << ": " << e.detail;  // a failed timed action
    }
    for (const Pool& p : (*m)->catalog().pools()) {
      for (const PricePoint& h : p.history) EXPECT_LE(h.price, p.on_demand_price) << p.id;
    }
  }
}

const Instance* ByName(const Market& m, std::string_view name) {
  for (const auto& [id, inst] : m.instances()) {
    if (inst.name == name) return &inst;
  }
  return nullptr;
}

// The README demo's story (etc/scenarios/demo.toml): every notice and end at the virtual time
// its header promises, checked through what IMDS would serve.
TEST(ScenarioTest, DemoScenarioPlaysItsTimeline) {
  auto loaded =
      LoadScenarioFile(std::string(LASTCALL_MOCK_CORE_SOURCE_DIR) + "/etc/scenarios/demo.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  World& m = **loaded;
  const WallTime t0 = m.start();
  using std::chrono::seconds;
  auto at = [&](Duration d) { ASSERT_TRUE(m.AdvanceTo(t0 + d).ok()); };
  auto view = [&](std::string_view name) {
    const Instance* inst = ByName(m, name);
    EXPECT_NE(inst, nullptr) << name;
    auto v = m.Metadata(inst ? inst->id : "");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : MetadataView{};
  };

  at(seconds(0));
  {
    const MetadataView aws = view("aws-demo");
    const MetadataView ali = view("ali-demo");
    EXPECT_EQ(aws.state, InstanceState::kRunning);
    EXPECT_EQ(aws.instance_life_cycle, "spot");
    EXPECT_FALSE(aws.instance_action);
    EXPECT_FALSE(aws.rebalance_notice_time);
    EXPECT_EQ(ali.state, InstanceState::kRunning);
    EXPECT_FALSE(ali.termination_time);
    auto info = m.alibaba().Describe(ali.instance_id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->spot_duration, 0);
    EXPECT_EQ(info->protection_end, info->creation_time);
  }
  at(seconds(19));
  EXPECT_FALSE(view("aws-demo").instance_action);

  at(seconds(20));  // capacity 2 -> 0: the two-minute notice
  {
    const MetadataView aws = view("aws-demo");
    ASSERT_TRUE(aws.instance_action);
    EXPECT_EQ(aws.instance_action->action, "terminate");
    EXPECT_EQ(aws.instance_action->time, t0 + seconds(140));
    EXPECT_EQ(aws.termination_time, t0 + seconds(140));
    EXPECT_EQ(aws.rebalance_notice_time, t0 + seconds(20));
  }
  at(seconds(139));
  EXPECT_EQ(view("aws-demo").state, InstanceState::kRunning);
  at(seconds(140));
  EXPECT_EQ(view("aws-demo").state, InstanceState::kTerminated);
  {
    const SpotRequest* r = m.aws().FindRequest(view("aws-demo").spot_request_id);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->state, "closed");
    EXPECT_EQ(r->status_code, "instance-terminated-no-capacity");
  }

  // The price spiked at +0:30, but Alibaba only acts at the 5-minute check.
  at(seconds(299));
  EXPECT_FALSE(view("ali-demo").termination_time);
  EXPECT_EQ(m.catalog().FindPool("ecs.c5.large@cn-hangzhou-b")->price, 0.2);
  at(seconds(300));
  {
    const MetadataView ali = view("ali-demo");
    EXPECT_EQ(ali.state, InstanceState::kRunning);
    EXPECT_EQ(ali.termination_time, t0 + seconds(600));
    auto info = m.alibaba().Describe(ali.instance_id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->operation_locks, std::vector<std::string>{"Recycling"});
  }
  at(seconds(599));
  EXPECT_EQ(view("ali-demo").state, InstanceState::kRunning);
  at(seconds(600));
  EXPECT_EQ(view("ali-demo").state, InstanceState::kTerminated);
  EXPECT_EQ(ByName(m, "ali-demo")->end_time, t0 + seconds(600));
  EXPECT_EQ(ByName(m, "aws-demo")->end_time, t0 + seconds(140));
}

}  // namespace
}  // namespace lastcall::mock
