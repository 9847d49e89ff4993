#include "mockmeta/imds/market_directory.h"

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::mock {
namespace {

std::unique_ptr<World> MakeMarket() {
  auto m = ScenarioBuilder()
               .Start("2026-04-07T00:00:00Z")
               .Aws()
               .Zone("cn-hangzhou-b", "cn-hangzhou")
               .Pool("m5.large", "us-east-1a", 5, 0.03)
               .Pool("m5.large", "cn-hangzhou-b", 5, 0.03)
               .Load("t.toml");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

std::string Add(Market& m, FlavorKind flavor, std::string zone) {
  Instance inst;
  inst.flavor = flavor;
  inst.type = "m5.large";
  inst.zone = std::move(zone);
  inst.name = "worker";
  inst.state = InstanceState::kRunning;
  auto added = m.AddInstance(inst, false, "user");
  EXPECT_TRUE(added.ok()) << added.status().ToString();
  return (*added)->id;
}

TEST(MarketDirectoryTest, MapsEveryAwsField) {
  MetadataView v;
  v.flavor = FlavorKind::kAws;
  v.instance_id = "i-1";
  v.instance_type = "m5.large";
  v.zone = "us-east-1a";
  v.region = "us-east-1";
  v.hostname = "ip-10-0-0-1";
  v.private_ip = "10.0.0.1";
  v.mac = "02:00:00:00:00:01";
  v.image_id = "ami-1";
  v.account_id = "123";
  v.launch_time = WallTime(std::chrono::seconds(100));
  v.instance_life_cycle = "spot";
  v.instance_action = InstanceAction{"stop", WallTime(std::chrono::seconds(200))};
  v.termination_time = WallTime(std::chrono::seconds(200));
  v.rebalance_notice_time = WallTime(std::chrono::seconds(150));
  v.scheduled_events.push_back({"system-reboot", "d", "instance-event-1",
                                WallTime(std::chrono::seconds(300)), std::nullopt, std::nullopt,
                                "active"});
  v.target_lifecycle_state = "InService";
  AwsMetadataView a = ToAwsView(v, true);
  EXPECT_TRUE(a.tokens_required);
  EXPECT_EQ(a.instance_id, "i-1");
  EXPECT_EQ(a.ami_id, "ami-1");
  EXPECT_EQ(a.local_hostname, "ip-10-0-0-1");
  EXPECT_EQ(a.local_ipv4, "10.0.0.1");
  EXPECT_EQ(a.availability_zone, "us-east-1a");
  EXPECT_EQ(a.region, "us-east-1");
  EXPECT_EQ(a.account_id, "123");
  EXPECT_EQ(a.pending_time, v.launch_time);
  EXPECT_EQ(a.instance_life_cycle, "spot");
  ASSERT_TRUE(a.instance_action.has_value());
  EXPECT_EQ(a.instance_action->action, "stop");
  EXPECT_EQ(a.termination_time, v.termination_time);
  EXPECT_EQ(a.rebalance_notice_time, v.rebalance_notice_time);
  ASSERT_EQ(a.scheduled_events.size(), 1u);
  EXPECT_EQ(a.scheduled_events[0].event_id, "instance-event-1");
  EXPECT_EQ(a.target_lifecycle_state, "InService");
  // An empty life cycle (a flavor that filled nothing) reads as on-demand, never "".
  v.instance_life_cycle.clear();
  EXPECT_EQ(ToAwsView(v, false).instance_life_cycle, "on-demand");
}

TEST(MarketDirectoryTest, MapsEveryAlibabaField) {
  MetadataView v;
  v.flavor = FlavorKind::kAlibaba;
  v.instance_id = "i-bp1";
  v.instance_type = "ecs.c5.8xlarge";
  v.name = "render";
  v.hostname = "h";
  v.region = "cn-hangzhou";
  v.zone = "cn-hangzhou-b";
  v.image_id = "m-1";
  v.mac = "m";
  v.private_ip = "10.0.0.2";
  v.vpc_id = "vpc-1";
  v.vswitch_id = "vsw-1";
  v.serial_number = "sn";
  v.account_id = "acc";
  v.termination_time = WallTime(std::chrono::seconds(5));
  AlibabaMetadataView a = ToAlibabaView(v, false);
  EXPECT_FALSE(a.tokens_required);
  EXPECT_EQ(a.instance_name, "render");
  EXPECT_EQ(a.region_id, "cn-hangzhou");
  EXPECT_EQ(a.zone_id, "cn-hangzhou-b");
  EXPECT_EQ(a.image_id, "m-1");
  EXPECT_EQ(a.private_ipv4, "10.0.0.2");
  EXPECT_EQ(a.vpc_id, "vpc-1");
  EXPECT_EQ(a.vswitch_id, "vsw-1");
  EXPECT_EQ(a.serial_number, "sn");
  EXPECT_EQ(a.owner_account_id, "acc");
  EXPECT_EQ(a.termination_time, v.termination_time);
}

// An AWS and an Alibaba instance; listener "port-a" is bound to the Alibaba one.
class TwoInstancesTest : public ::testing::Test {
 protected:
  TwoInstancesTest() : host(clock, MakeAndFill(), ClockSpec{ClockMode::kManual, 0}), dir(host) {
    dir.BindListener("port-a", ali);
  }
  std::unique_ptr<World> MakeAndFill() {
    auto market = MakeMarket();
    aws = Add(*market, FlavorKind::kAws, "us-east-1a");
    ali = Add(*market, FlavorKind::kAlibaba, "cn-hangzhou-b");
    return market;
  }

  FakeClock clock;
  std::string aws;
  std::string ali;
  MarketHost host;
  MarketDirectory dir;
};

TEST_F(TwoInstancesTest, FindsByPrefixAndByBoundListenerWithTheFlavor) {
  EXPECT_EQ(dir.Find("imds", aws), (ImdsInstance{aws, ImdsFlavor::kAws}));
  EXPECT_EQ(dir.Find("port-a", ""), (ImdsInstance{ali, ImdsFlavor::kAlibaba}));
  EXPECT_EQ(dir.Find("imds", ""), std::nullopt);
  EXPECT_EQ(dir.Find("imds", "i-unknown"), std::nullopt);

  ASSERT_TRUE(dir.AwsView(aws).has_value());
  EXPECT_EQ(dir.AwsView(aws)->availability_zone, "us-east-1a");
  EXPECT_FALSE(dir.AlibabaView(aws).has_value());  // the other flavor
  ASSERT_TRUE(dir.AlibabaView(ali).has_value());
  EXPECT_EQ(dir.AlibabaView(ali)->instance_name, "worker");

  EXPECT_FALSE(dir.AwsView(aws)->tokens_required);
  dir.SetTokensRequired(aws, true);
  EXPECT_TRUE(dir.AwsView(aws)->tokens_required);
}

// Resolve() is what the router calls per request: the same answers as Find() then the view.
TEST_F(TwoInstancesTest, ResolveIsFindThenTheViewOfTheFlavorInOneStep) {
  dir.SetTokensRequired(ali, true);

  std::optional<ImdsSnapshot> a = dir.Resolve("imds", aws);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->instance, (ImdsInstance{aws, ImdsFlavor::kAws}));
  ASSERT_TRUE(a->aws.has_value());
  EXPECT_FALSE(a->alibaba.has_value());
  EXPECT_EQ(a->aws->availability_zone, dir.AwsView(aws)->availability_zone);
  EXPECT_EQ(a->aws->instance_id, aws);
  EXPECT_FALSE(a->aws->tokens_required);

  std::optional<ImdsSnapshot> b = dir.Resolve("port-a", "");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->instance, (ImdsInstance{ali, ImdsFlavor::kAlibaba}));
  ASSERT_TRUE(b->alibaba.has_value());
  EXPECT_FALSE(b->aws.has_value());
  EXPECT_EQ(b->alibaba->instance_name, "worker");
  EXPECT_TRUE(b->alibaba->tokens_required);

  EXPECT_FALSE(dir.Resolve("imds", "").has_value());
  EXPECT_FALSE(dir.Resolve("imds", "i-unknown").has_value());
  host.With([&](Market& m, VirtualClock&) {
    m.SetInstanceState(*m.FindInstance(aws), InstanceState::kTerminated, "user");
  });
  EXPECT_FALSE(dir.Resolve("imds", aws).has_value());
}

TEST(MarketDirectoryTest, ATerminatedInstanceServesNothing) {
  FakeClock clock;
  auto market = MakeMarket();
  const std::string aws = Add(*market, FlavorKind::kAws, "us-east-1a");
  MarketHost host(clock, std::move(market), ClockSpec{ClockMode::kManual, 0});
  MarketDirectory dir(host);
  host.With([&](Market& m, VirtualClock&) {
    m.SetInstanceState(*m.FindInstance(aws), InstanceState::kTerminated, "user");
  });
  EXPECT_EQ(dir.Find("imds", aws), std::nullopt);
  EXPECT_EQ(dir.AwsView(aws), std::nullopt);
}

TEST(MarketHostTest, EveryAccessAdvancesTheMarketToTheVirtualNow) {
  FakeClock clock;
  MarketHost host(clock, MakeMarket(), ClockSpec{ClockMode::kAccelerated, 60});
  const WallTime start = host.With([](Market& m, VirtualClock&) { return m.now(); });
  clock.Advance(std::chrono::seconds(10));  // 10 real seconds at speed 60: 10 virtual minutes
  const WallTime now = host.With([](Market& m, VirtualClock&) { return m.now(); });
  EXPECT_EQ(now - start, std::chrono::minutes(10));
  EXPECT_EQ(host.VirtualNow(), now);
}

TEST(MarketHostTest, ReplaceRestartsTheClockAtTheNewStartAndBumpsTheGeneration) {
  FakeClock clock;
  MarketHost host(clock, MakeMarket(), ClockSpec{ClockMode::kManual, 0});
  host.With([](Market&, VirtualClock& c) { (void)c.Advance(std::chrono::hours(5)); });
  const uint64_t g = host.generation();
  EXPECT_EQ(host.Replace(MakeMarket()), g + 1);
  EXPECT_EQ(FormatRfc3339(host.VirtualNow()), "2026-04-07T00:00:00Z");
  host.With([](Market&, VirtualClock& c) { EXPECT_EQ(c.mode(), ClockMode::kManual); });
}

}  // namespace
}  // namespace lastcall::mock
