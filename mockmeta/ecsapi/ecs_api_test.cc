// EcsApi in-process: parsing, errors, DryRun, each action, and one market behind the face (a
// recycle shows as the Recycling lock, then Released, at the instant IMDS shows the notice).
#include "mockmeta/ecsapi/ecs_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::mock::ecs {
namespace {

using ::testing::HasSubstr;

std::string Encode(const std::string& s) { return AliPercentEncode(s); }

class EcsApiTest : public ::testing::Test {
 protected:
  EcsApiTest() : host_(clock_, Load(), ClockSpec{ClockMode::kManual, 0}), api_(host_) {}

  static std::unique_ptr<World> Load() {
    auto m = ScenarioBuilder()
                 .Start("2026-04-07T00:00:00Z")
                 .Alibaba()
                 .Zone("cn-hangzhou-c", "cn-hangzhou")
                 .Pool("ecs.c5.8xlarge", "cn-hangzhou-b", 3, 0.152)
                 .Pool("ecs.c5.8xlarge", "cn-hangzhou-c", 0, 0.2)
                 .Load("t.toml");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return std::move(m).value();
  }

  // GET /?Action=..&Version=..&<params>, unsigned.
  HttpResponse Get(const std::string& action, const std::map<std::string, std::string>& params) {
    std::string q = "Action=" + action + "&Version=2014-05-26&Format=JSON";
    for (const auto& [k, v] : params) q += "&" + Encode(k) + "=" + Encode(v);
    return api_.Handle(HttpRequest::Make("GET", "/?" + q), {});
  }
  nlohmann::json Ok(const std::string& action, const std::map<std::string, std::string>& params) {
    HttpResponse r = Get(action, params);
    EXPECT_EQ(r.status, 200) << action << ": " << r.body;
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.contains("RequestId")) << r.body;
    return j;
  }
  // The error's (status, Code); the body must be ECS's error document.
  std::pair<int, std::string> Err(const std::string& action,
                                  const std::map<std::string, std::string>& params) {
    HttpResponse r = Get(action, params);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("RequestId") && j.contains("HostId") &&
                j.contains("Message") && j.contains("Recommend"))
        << r.body;
    return {r.status, j.is_object() ? j.value("Code", "") : ""};
  }
  std::vector<std::string> Run(std::map<std::string, std::string> params) {
    params.emplace("RegionId", "cn-hangzhou");
    params.emplace("ZoneId", "cn-hangzhou-b");
    params.emplace("InstanceType", "ecs.c5.8xlarge");
    nlohmann::json j = Ok("RunInstances", params);
    return j["InstanceIdSets"]["InstanceIdSet"].get<std::vector<std::string>>();
  }
  nlohmann::json Describe(const std::string& id) {
    nlohmann::json j =
        Ok("DescribeInstances", {{"RegionId", "cn-hangzhou"}, {"InstanceIds", "[\"" + id + "\"]"}});
    EXPECT_EQ(j["Instances"]["Instance"].size(), 1u) << j.dump();
    return j["Instances"]["Instance"][0];
  }
  void Advance(Duration d) {
    host_.With([&](Market&, VirtualClock& c) { ASSERT_TRUE(c.Advance(d).ok()); });
    host_.Tick();
  }
  void SetPrice(double p) {
    host_.With([&](Market& m, VirtualClock&) {
      ASSERT_TRUE(m.SetSpotPrice("ecs.c5.8xlarge@cn-hangzhou-b", p, "user").ok());
    });
  }
  int Running() {
    return host_.With([](Market& m, VirtualClock&) {
      return m.catalog().FindPool("ecs.c5.8xlarge@cn-hangzhou-b")->spot_running;
    });
  }

  FakeClock clock_;
  MarketHost host_;
  EcsApi api_;
};

TEST_F(EcsApiTest, RunInstancesCreatesPreemptibleInstancesDescribedInEcsWords) {
  std::vector<std::string> ids = Run({{"Amount", "2"},
                                      {"SpotStrategy", "SpotWithPriceLimit"},
                                      {"SpotPriceLimit", "0.5"},
                                      {"InstanceName", "render"},
                                      {"Tag.1.Key", "team"},
                                      {"Tag.1.Value", "vfx"}});
  ASSERT_EQ(ids.size(), 2u);
  nlohmann::json i = Describe(ids[0]);
  EXPECT_EQ(i["Status"], "Running");
  EXPECT_EQ(i["SpotStrategy"], "SpotWithPriceLimit");
  EXPECT_DOUBLE_EQ(i["SpotPriceLimit"].get<double>(), 0.5);
  EXPECT_EQ(i["SpotDuration"], 1);
  EXPECT_EQ(i["ZoneId"], "cn-hangzhou-b");
  EXPECT_EQ(i["CreationTime"], "2026-04-07T00:00Z");
  EXPECT_EQ(i["OperationLocks"]["LockReason"].size(), 0u);
  EXPECT_EQ(i["Tags"]["Tag"][0]["TagKey"], "team");
  EXPECT_EQ(i["Cpu"], 32);
  EXPECT_EQ(i["Memory"], 65536);
  EXPECT_EQ(Running(), 2);
}

TEST_F(EcsApiTest, RecycleShowsTheLockThenReleasedAtTheInstantMetadataShowsTheNotice) {
  std::vector<std::string> ids = Run(
      {{"SpotStrategy", "SpotWithPriceLimit"}, {"SpotPriceLimit", "0.3"}, {"SpotDuration", "0"}});
  ASSERT_EQ(ids.size(), 1u);
  SetPrice(0.6);  // market price for SpotDuration 0 is 0.54 > 0.3
  Advance(std::chrono::minutes(5));
  nlohmann::json i = Describe(ids[0]);
  EXPECT_EQ(i["Status"], "Running");
  ASSERT_EQ(i["OperationLocks"]["LockReason"].size(), 1u);
  EXPECT_EQ(i["OperationLocks"]["LockReason"][0]["LockReason"], "Recycling");
  std::optional<WallTime> notice =
      host_.With([&](Market& m, VirtualClock&) { return m.Metadata(ids[0])->termination_time; });
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(FormatRfc3339(*notice), "2026-04-07T00:10:00Z");
  Advance(std::chrono::minutes(5));
  EXPECT_EQ(Describe(ids[0])["Status"], "Released");
  // Released instances stay out of an unfiltered list.
  nlohmann::json all = Ok("DescribeInstances", {{"RegionId", "cn-hangzhou"}});
  EXPECT_EQ(all["TotalCount"], 0);
  EXPECT_EQ(
      Ok("DescribeInstances", {{"RegionId", "cn-hangzhou"}, {"Status", "Released"}})["TotalCount"],
      1);
}

TEST_F(EcsApiTest, InterruptionBehaviorStopLeavesARecycledInstanceStopped) {
  std::vector<std::string> ids = Run({{"SpotStrategy", "SpotWithPriceLimit"},
                                      {"SpotPriceLimit", "0.3"},
                                      {"SpotDuration", "0"},
                                      {"SpotInterruptionBehavior", "Stop"}});
  SetPrice(0.6);
  Advance(std::chrono::minutes(10));
  nlohmann::json i = Describe(ids[0]);
  EXPECT_EQ(i["Status"], "Stopped");
  EXPECT_EQ(i["SpotInterruptionBehavior"], "Stop");
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "cn-hangzhou"},
                                 {"InstanceType", "ecs.c5.8xlarge"},
                                 {"SpotStrategy", "SpotAsPriceGo"},
                                 {"SpotInterruptionBehavior", "Hibernate"}})
                .second,
            "InvalidParameter.SpotInterruptionBehavior");
}

TEST_F(EcsApiTest, RunInstancesErrorsKeepAlibabasCodesAndApplyNothing) {
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "cn-hangzhou"},
                                 {"ZoneId", "cn-hangzhou-b"},
                                 {"InstanceType", "ecs.c5.8xlarge"},
                                 {"SpotStrategy", "SpotWithPriceLimit"},
                                 {"SpotPriceLimit", "0.1"}}),
            std::make_pair(400, std::string("InvalidSpotPriceLimit.LowerThanPublicPrice")));
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "cn-hangzhou"},
                                 {"ZoneId", "cn-hangzhou-c"},
                                 {"InstanceType", "ecs.c5.8xlarge"},
                                 {"SpotStrategy", "SpotAsPriceGo"}}),
            std::make_pair(403, std::string("OperationDenied.NoStock")));
  EXPECT_EQ(
      Err("RunInstances",
          {{"RegionId", "cn-hangzhou"}, {"InstanceType", "ecs.c5.8xlarge"}, {"Amount", "1000"}}),
      std::make_pair(400, std::string("InvalidParameter.Amount")));
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "cn-hangzhou"},
                                 {"ZoneId", "cn-hangzhou-b"},
                                 {"InstanceType", "ecs.c5.8xlarge"},
                                 {"SpotStrategy", "SpotAsPriceGo"},
                                 {"Amount", "4"}}),
            std::make_pair(403, std::string("OperationDenied.NoStock")));
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "cn-hangzhou"}, {"Amount", "abc"}}).second,
            "MissingParameter");
  EXPECT_EQ(
      Err("RunInstances",
          {{"RegionId", "cn-hangzhou"}, {"InstanceType", "ecs.c5.8xlarge"}, {"Amount", "two"}}),
      std::make_pair(400, std::string("InvalidParameter")));
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "mars-1"}, {"InstanceType", "ecs.c5.8xlarge"}}),
            std::make_pair(404, std::string("InvalidRegionId.NotFound")));
  EXPECT_EQ(Running(), 0);
  EXPECT_EQ(Ok("DescribeInstances", {{"RegionId", "cn-hangzhou"}})["TotalCount"], 0);
}

TEST_F(EcsApiTest, ClientTokenMakesARetryAnswerTheSameInstances) {
  std::vector<std::string> first = Run({{"SpotStrategy", "SpotAsPriceGo"}, {"ClientToken", "t-1"}});
  std::vector<std::string> again = Run({{"SpotStrategy", "SpotAsPriceGo"}, {"ClientToken", "t-1"}});
  EXPECT_EQ(first, again);
  EXPECT_EQ(Running(), 1);
  EXPECT_NE(Run({{"SpotStrategy", "SpotAsPriceGo"}, {"ClientToken", "t-2"}}), first);
}

TEST_F(EcsApiTest, MinAmountTakesWhatStockThereIs) {
  std::vector<std::string> ids =
      Run({{"SpotStrategy", "SpotAsPriceGo"}, {"Amount", "5"}, {"MinAmount", "2"}});
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(EcsApiTest, DryRunChecksAndChangesNothing) {
  EXPECT_EQ(Err("RunInstances", {{"RegionId", "cn-hangzhou"},
                                 {"ZoneId", "cn-hangzhou-b"},
                                 {"InstanceType", "ecs.c5.8xlarge"},
                                 {"SpotStrategy", "SpotAsPriceGo"},
                                 {"DryRun", "true"}}),
            std::make_pair(400, std::string("DryRunOperation")));
  EXPECT_EQ(Running(), 0);
  std::vector<std::string> ids = Run({{"SpotStrategy", "SpotAsPriceGo"}});
  EXPECT_EQ(Err("StopInstance", {{"InstanceId", ids[0]}, {"DryRun", "true"}}).second,
            "DryRunOperation");
  EXPECT_EQ(Describe(ids[0])["Status"], "Running");
  // DryRun of an operation the state forbids answers the real error.
  EXPECT_EQ(Err("StartInstance", {{"InstanceId", ids[0]}, {"DryRun", "true"}}).second,
            "IncorrectInstanceStatus");
}

TEST_F(EcsApiTest, StopWithStopChargingGivesTheSlotBackAndStartTakesItAgain) {
  std::vector<std::string> ids = Run({{"SpotStrategy", "SpotAsPriceGo"}});
  Ok("StopInstance", {{"InstanceId", ids[0]}, {"StoppedMode", "StopCharging"}});
  nlohmann::json i = Describe(ids[0]);
  EXPECT_EQ(i["Status"], "Stopped");
  EXPECT_EQ(i["StoppedMode"], "StopCharging");
  EXPECT_EQ(Running(), 0);
  EXPECT_EQ(Err("StopInstance", {{"InstanceId", ids[0]}}),
            std::make_pair(403, std::string("IncorrectInstanceStatus")));
  Ok("StartInstance", {{"InstanceId", ids[0]}});
  EXPECT_EQ(Describe(ids[0])["Status"], "Running");
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(Err("StopInstance", {{"InstanceId", ids[0]}, {"StoppedMode", "Sometimes"}}).second,
            "InvalidParameter.StoppedMode");
  Ok("RebootInstance", {{"InstanceId", ids[0]}});
  EXPECT_EQ(Describe(ids[0])["Status"], "Running");
}

TEST_F(EcsApiTest, CreateInstanceLeavesItStoppedAndStartTakesStock) {
  nlohmann::json c = Ok("CreateInstance", {{"RegionId", "cn-hangzhou"},
                                           {"ZoneId", "cn-hangzhou-b"},
                                           {"InstanceType", "ecs.c5.8xlarge"},
                                           {"SpotStrategy", "SpotAsPriceGo"}});
  const std::string id = c["InstanceId"];
  EXPECT_EQ(Describe(id)["Status"], "Stopped");
  EXPECT_EQ(Running(), 0);
  Ok("StartInstance", {{"InstanceId", id}});
  EXPECT_EQ(Describe(id)["Status"], "Running");
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(Err("CreateInstance", {{"RegionId", "cn-hangzhou"},
                                   {"ZoneId", "cn-hangzhou-c"},
                                   {"InstanceType", "ecs.c5.8xlarge"},
                                   {"SpotStrategy", "SpotAsPriceGo"}})
                .second,
            "OperationDenied.NoStock");
}

TEST_F(EcsApiTest, TagsAreAllOrNothingAndCanBeRemoved) {
  std::vector<std::string> ids = Run({{"SpotStrategy", "SpotAsPriceGo"}});
  const std::map<std::string, std::string> base = {{"RegionId", "cn-hangzhou"},
                                                   {"ResourceType", "instance"},
                                                   {"ResourceId.1", ids[0]},
                                                   {"Tag.1.Key", "a"},
                                                   {"Tag.1.Value", "1"}};
  std::map<std::string, std::string> bad = base;
  bad["ResourceId.2"] = "i-unknown";
  EXPECT_EQ(Err("TagResources", bad),
            std::make_pair(404, std::string("InvalidInstanceId.NotFound")));
  EXPECT_EQ(Describe(ids[0])["Tags"]["Tag"].size(), 0u) << "nothing half-applied";
  Ok("TagResources", base);
  EXPECT_EQ(Describe(ids[0])["Tags"]["Tag"].size(), 1u);
  Ok("UntagResources", {{"RegionId", "cn-hangzhou"},
                        {"ResourceType", "instance"},
                        {"ResourceId.1", ids[0]},
                        {"TagKey.1", "a"}});
  EXPECT_EQ(Describe(ids[0])["Tags"]["Tag"].size(), 0u);
  EXPECT_EQ(Err("TagResources", {{"RegionId", "cn-hangzhou"}, {"ResourceType", "disk"}}).second,
            "InvalidParameter");
}

TEST_F(EcsApiTest, DeleteNeedsStoppedOrForce) {
  std::vector<std::string> ids = Run({{"SpotStrategy", "SpotAsPriceGo"}, {"Amount", "2"}});
  EXPECT_EQ(Err("DeleteInstance", {{"InstanceId", ids[0]}}),
            std::make_pair(403, std::string("IncorrectInstanceStatus")));
  Ok("DeleteInstance", {{"InstanceId", ids[0]}, {"Force", "true"}});
  EXPECT_EQ(Describe(ids[0])["Status"], "Released");
  EXPECT_EQ(Err("DeleteInstance", {{"InstanceId", ids[0]}, {"Force", "true"}}),
            std::make_pair(404, std::string("InvalidInstanceId.NotFound")));
  EXPECT_EQ(Err("DeleteInstance", {{"InstanceId", "i-doesnotexist"}}),
            std::make_pair(404, std::string("InvalidInstanceId.NotFound")));
  EXPECT_EQ(Err("DeleteInstance", {}), std::make_pair(400, std::string("MissingParameter")));
}

TEST_F(EcsApiTest, BatchesAreAllOrNothing) {
  std::vector<std::string> ids = Run({{"SpotStrategy", "SpotAsPriceGo"}, {"Amount", "2"}});
  Ok("StopInstance", {{"InstanceId", ids[1]}});
  // AllTogether: one Stopped instance refuses the whole StopInstances.
  EXPECT_EQ(Err("StopInstances",
                {{"RegionId", "cn-hangzhou"}, {"InstanceId.1", ids[0]}, {"InstanceId.2", ids[1]}})
                .second,
            "IncorrectInstanceStatus");
  EXPECT_EQ(Describe(ids[0])["Status"], "Running");
  // SuccessFirst: each reported.
  nlohmann::json j = Ok("StopInstances", {{"RegionId", "cn-hangzhou"},
                                          {"InstanceId.1", ids[0]},
                                          {"InstanceId.2", ids[1]},
                                          {"BatchOptimization", "SuccessFirst"}});
  auto& list = j["InstanceResponses"]["InstanceResponse"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["Code"], "200");
  EXPECT_EQ(list[0]["PreviousStatus"], "Running");
  EXPECT_EQ(list[0]["CurrentStatus"], "Stopped");
  EXPECT_EQ(list[1]["Code"], "IncorrectInstanceStatus");
  Ok("StartInstances", {{"RegionId", "cn-hangzhou"}, {"InstanceId.1", ids[0]}});
  Ok("DeleteInstances", {{"RegionId", "cn-hangzhou"},
                         {"InstanceId.1", ids[0]},
                         {"InstanceId.2", ids[1]},
                         {"Force", "true"}});
  EXPECT_EQ(Describe(ids[0])["Status"], "Released");
  EXPECT_EQ(Describe(ids[1])["Status"], "Released");
}

TEST_F(EcsApiTest, DescribeInstancesFiltersAndPages) {
  std::vector<std::string> ids =
      Run({{"SpotStrategy", "SpotAsPriceGo"}, {"Amount", "3"}, {"InstanceName", "w"}});
  Ok("StopInstance", {{"InstanceId", ids[2]}});
  Ok("TagResources", {{"RegionId", "cn-hangzhou"},
                      {"ResourceType", "instance"},
                      {"ResourceId.1", ids[1]},
                      {"Tag.1.Key", "role"},
                      {"Tag.1.Value", "db"}});
  EXPECT_EQ(
      Ok("DescribeInstances", {{"RegionId", "cn-hangzhou"}, {"Status", "Stopped"}})["TotalCount"],
      1);
  EXPECT_EQ(Ok("DescribeInstances",
               {{"RegionId", "cn-hangzhou"}, {"ZoneId", "cn-hangzhou-c"}})["TotalCount"],
            0);
  nlohmann::json tagged =
      Ok("DescribeInstances",
         {{"RegionId", "cn-hangzhou"}, {"Tag.1.Key", "role"}, {"Tag.1.Value", "db"}});
  ASSERT_EQ(tagged["TotalCount"], 1);
  EXPECT_EQ(tagged["Instances"]["Instance"][0]["InstanceId"], ids[1]);
  nlohmann::json p2 = Ok("DescribeInstances",
                         {{"RegionId", "cn-hangzhou"}, {"PageSize", "2"}, {"PageNumber", "2"}});
  EXPECT_EQ(p2["TotalCount"], 3);
  EXPECT_EQ(p2["Instances"]["Instance"].size(), 1u);
  // NextToken / MaxResults walk the same list.
  std::vector<std::string> seen;
  std::string token;
  for (int guard = 0; guard < 5; ++guard) {
    std::map<std::string, std::string> q = {{"RegionId", "cn-hangzhou"}, {"MaxResults", "2"}};
    if (!token.empty()) q["NextToken"] = token;
    nlohmann::json j = Ok("DescribeInstances", q);
    for (auto& i : j["Instances"]["Instance"]) seen.push_back(i["InstanceId"]);
    token = j["NextToken"];
    if (token.empty()) break;
  }
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(Err("DescribeInstances", {{"RegionId", "cn-hangzhou"}, {"InstanceIds", "[1,"}}).second,
            "InvalidParameter");
  EXPECT_EQ(Err("DescribeInstances", {{"RegionId", "cn-hangzhou"}, {"PageSize", "500"}}).second,
            "InvalidParameter");
  nlohmann::json st = Ok("DescribeInstanceStatus", {{"RegionId", "cn-hangzhou"}});
  EXPECT_EQ(st["InstanceStatuses"]["InstanceStatus"].size(), 3u);
  nlohmann::json tags =
      Ok("ListTagResources", {{"RegionId", "cn-hangzhou"}, {"ResourceType", "instance"}});
  ASSERT_EQ(tags["TagResources"]["TagResource"].size(), 1u);
  EXPECT_EQ(tags["TagResources"]["TagResource"][0]["TagValue"], "db");
}

TEST_F(EcsApiTest, SpotPriceHistoryIsThePoolsHistory) {
  Advance(std::chrono::minutes(30));
  SetPrice(0.3);
  nlohmann::json j = Ok("DescribeSpotPriceHistory", {{"RegionId", "cn-hangzhou"},
                                                     {"NetworkType", "vpc"},
                                                     {"InstanceType", "ecs.c5.8xlarge"},
                                                     {"ZoneId", "cn-hangzhou-b"},
                                                     {"StartTime", "2026-04-07T00:00:00Z"}});
  auto& pts = j["SpotPrices"]["SpotPriceType"];
  ASSERT_EQ(pts.size(), 2u) << j.dump();
  EXPECT_EQ(pts[0]["Timestamp"], "2026-04-07T00:00:00Z");
  EXPECT_DOUBLE_EQ(pts[0]["SpotPrice"].get<double>(), 0.152);
  EXPECT_DOUBLE_EQ(pts[0]["OriginPrice"].get<double>(), 1.52);
  EXPECT_EQ(pts[1]["Timestamp"], "2026-04-07T00:30:00Z");
  EXPECT_DOUBLE_EQ(pts[1]["SpotPrice"].get<double>(), 0.3);
  nlohmann::json d0 = Ok("DescribeSpotPriceHistory", {{"RegionId", "cn-hangzhou"},
                                                      {"NetworkType", "vpc"},
                                                      {"InstanceType", "ecs.c5.8xlarge"},
                                                      {"ZoneId", "cn-hangzhou-b"},
                                                      {"SpotDuration", "0"}});
  EXPECT_DOUBLE_EQ(d0["SpotPrices"]["SpotPriceType"].back()["SpotPrice"].get<double>(), 0.27);
  EXPECT_EQ(Err("DescribeSpotPriceHistory",
                {{"RegionId", "cn-hangzhou"}, {"InstanceType", "ecs.c5.8xlarge"}})
                .second,
            "MissingParameter");
  EXPECT_EQ(Err("DescribeSpotPriceHistory", {{"RegionId", "cn-hangzhou"},
                                             {"NetworkType", "vpc"},
                                             {"InstanceType", "ecs.c5.8xlarge"},
                                             {"StartTime", "yesterday"}})
                .second,
            "InvalidParameter");
}

TEST_F(EcsApiTest, AdvicePriceZonesRegionsAndStock) {
  Run({{"SpotStrategy", "SpotAsPriceGo"}});
  nlohmann::json a = Ok("DescribeSpotAdvice", {{"RegionId", "cn-hangzhou"}});
  ASSERT_FALSE(a["AvailableSpotZones"]["AvailableSpotZone"].empty()) << a.dump();
  EXPECT_TRUE(a["AvailableSpotZones"]["AvailableSpotZone"][0]["AvailableSpotResources"]
               ["AvailableSpotResource"][0]
                   .contains("InterruptRateDesc"));
  nlohmann::json p = Ok("DescribePrice", {{"RegionId", "cn-hangzhou"},
                                          {"InstanceType", "ecs.c5.8xlarge"},
                                          {"ZoneId", "cn-hangzhou-b"},
                                          {"SpotStrategy", "SpotAsPriceGo"}});
  EXPECT_DOUBLE_EQ(p["PriceInfo"]["Price"]["TradePrice"].get<double>(), 0.152);
  EXPECT_DOUBLE_EQ(p["PriceInfo"]["Price"]["OriginalPrice"].get<double>(), 1.52);
  nlohmann::json z = Ok("DescribeZones", {{"RegionId", "cn-hangzhou"}});
  EXPECT_EQ(z["Zones"]["Zone"].size(), 2u);
  nlohmann::json r = Ok("DescribeRegions", {});
  EXPECT_EQ(r["Regions"]["Region"][0]["RegionId"], "cn-hangzhou");
  nlohmann::json s = Ok("DescribeAvailableResource", {{"RegionId", "cn-hangzhou"},
                                                      {"DestinationResource", "InstanceType"},
                                                      {"SpotStrategy", "SpotAsPriceGo"}});
  auto& zones = s["AvailableZones"]["AvailableZone"];
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0]["StatusCategory"], "WithStock");     // 1 of 3 used
  EXPECT_EQ(zones[1]["StatusCategory"], "WithoutStock");  // capacity 0
}

TEST_F(EcsApiTest, ProtocolErrors) {
  EXPECT_EQ(Err("NoSuchAction", {}), std::make_pair(404, std::string("InvalidAction.NotFound")));
  HttpResponse r =
      api_.Handle(HttpRequest::Make("GET", "/?Action=DescribeRegions&Version=2099-01-01"), {});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("InvalidVersion"));
  r = api_.Handle(HttpRequest::Make("GET", "/?Action=DescribeRegions&Version=2014-05-26&x=%zz"),
                  {});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("malformed"));
  r = api_.Handle(HttpRequest::Make("GET", "/?Version=2014-05-26"), {});
  EXPECT_THAT(r.body, HasSubstr("MissingParameter"));
  r = api_.Handle(HttpRequest::Make("DELETE", "/?Action=DescribeRegions&Version=2014-05-26"), {});
  EXPECT_EQ(r.status, 400);
  // V3 style: Action and Version in headers, parameters in a POST form body.
  r = api_.Handle(HttpRequest::Make("POST", "/",
                                    {{"x-acs-action", "DescribeRegions"},
                                     {"x-acs-version", "2014-05-26"},
                                     {"Content-Type", "application/x-www-form-urlencoded"}},
                                    "RegionId=cn-hangzhou"),
                  {});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json;charset=utf-8");
}

}  // namespace
}  // namespace lastcall::mock::ecs
