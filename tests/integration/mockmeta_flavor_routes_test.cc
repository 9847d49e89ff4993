// The real mockmeta binary over loopback: the Alibaba and AWS control routes and billing
// (docs/mockmeta-api.md). Every route is driven once the good way and once with a bad request,
// which must answer a 4xx JSON error naming the field and change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "mockmeta/testing/mockmeta_process.h"
#include "tests/support/test_env.h"

namespace lastcall::testing {
namespace {

using mock::testing::ParsedResponse;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAliZone = "cn-hangzhou-b";
constexpr const char* kAliType = "ecs.c5.8xlarge";
constexpr const char* kAliPool = "/v1/pools/ecs.c5.8xlarge@cn-hangzhou-b";
constexpr const char* kAwsPool = "/v1/pools/m5.large@us-east-1a";

class FlavorRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = MockmetaProcess::Start({"--imds-listen", "127.0.0.1:0", "--control-listen",
                                     "127.0.0.1:0", "--ec2-listen", "127.0.0.1:0", "--ecs-listen",
                                     "127.0.0.1:0", "--clock", "manual"});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    proc_ = std::move(p).value();
    // Prices hold still unless a test moves them.
    Call("PATCH", kAwsPool, R"({"model":{"kind":"fixed"},"price":0.035})");
  }
  void TearDown() override {
    if (proc_) {
      EXPECT_EQ(proc_->Terminate(), 0) << proc_->Stderr();
    }
  }

  json Call(const std::string& method, const std::string& target, const std::string& body = "",
            int want = 200) {
    auto r = Http(proc_->control(), method, target, body);
    EXPECT_TRUE(r.has_value()) << method << " " << target << "; stderr:\n" << proc_->Stderr();
    if (!r) return json::object();
    EXPECT_EQ(r->status, want) << method << " " << target << " " << body << ": " << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    return j.is_discarded() ? json::object() : j;
  }
  // A bad request: `status`, a JSON error with `code` and `field`; returns the error object.
  json Bad(const std::string& method, const std::string& target, const std::string& body,
           int status, const std::string& code, const std::string& field) {
    auto r = Http(proc_->control(), method, target, body);
    EXPECT_TRUE(r.has_value());
    if (!r) return json::object();
    EXPECT_EQ(r->status, status) << method << " " << target << " " << body << ": " << r->body;
    const std::string* ct = r->Header("Content-Type");
    EXPECT_TRUE(ct && ct->find("application/json") != std::string::npos);
    json j = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error")) << r->body;
    if (!j.is_object() || !j.contains("error")) return json::object();
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    if (field.empty()) {
      EXPECT_FALSE(j["error"].contains("field")) << r->body;
    } else {
      EXPECT_EQ(j["error"].value("field", ""), field) << r->body;
    }
    return j["error"];
  }
  ParsedResponse Imds(const std::string& target) {
    auto r = Http(proc_->imds(), "GET", target);
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(ParsedResponse{});
  }
  uint64_t LastSeq() { return Call("GET", "/v1/events")["last_seq"]; }

  std::string RunAlibaba(const std::string& extra = "") {
    json j =
        Call("POST", "/v1/alibaba/instances",
             std::string(R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge",)") +
                 R"("spot_strategy":"SpotWithPriceLimit","spot_price_limit":0.2)" + extra + "}",
             201);
    return j["InstanceIdSets"]["InstanceIdSet"][0];
  }
  json RunAws(const std::string& body) { return Call("POST", "/v1/aws/instances", body, 201); }

  std::unique_ptr<MockmetaProcess> proc_;
};

// --- Alibaba -------------------------------------------------------------------------------

TEST_F(FlavorRoutesTest, AlibabaRunInstancesAllOrNothingAndDescribe) {
  json made =
      Call("POST", "/v1/alibaba/instances",
           R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","spot_strategy":"SpotAsPriceGo",)"
           R"("spot_duration":0,"interruption_behavior":"Stop","name":"batch","amount":2})",
           201);
  ASSERT_EQ(made["InstanceIdSets"]["InstanceIdSet"].size(), 2u);
  const json& first = made["Instances"]["Instance"][0];
  EXPECT_EQ(first["InstanceName"], "batch-1");
  EXPECT_EQ(first["Status"], "Running");
  EXPECT_EQ(first["SpotStrategy"], "SpotAsPriceGo");
  EXPECT_EQ(first["SpotDuration"], 0);
  EXPECT_EQ(first["SpotInterruptionBehavior"], "Stop");
  EXPECT_EQ(first["CreationTime"], "2026-04-07T00:00:00Z");
  EXPECT_TRUE(first["OperationLocks"]["LockReason"].empty());
  const std::string id = made["InstanceIdSets"]["InstanceIdSet"][1];
  json one = Call("GET", "/v1/alibaba/instances/" + id);
  EXPECT_EQ(one["InstanceId"], id);
  EXPECT_EQ(one["InstanceName"], "batch-2");
  EXPECT_EQ(one["ZoneId"], kAliZone);
  EXPECT_EQ(one["InstanceType"], kAliType);
  EXPECT_EQ(Call("GET", "/v1/alibaba/instances")["TotalCount"], 2);
  EXPECT_EQ(Call("GET", "/v1/pools/ecs.c5.8xlarge@cn-hangzhou-b")["spot_running"], 2);

  // Bad requests change nothing: no instance, no slot, no event.
  const uint64_t seq = LastSeq();
  Bad("POST", "/v1/alibaba/instances",
      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","zone_id":"x"})", 400, "unknown_field",
      "zone_id");
  Bad("POST", "/v1/alibaba/instances", R"({"type":"ecs.c5.8xlarge"})", 400, "missing_field",
      "zone");
  Bad("POST", "/v1/alibaba/instances",
      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","amount":101})", 400, "out_of_range",
      "amount");
  Bad("POST", "/v1/alibaba/instances",
      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","spot_strategy":"Cheap"})", 400,
      "InvalidSpotStrategy", "spot_strategy");
  Bad("POST", "/v1/alibaba/instances",
      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","spot_strategy":"SpotWithPriceLimit",)"
      R"("spot_price_limit":0.1})",
      400, "InvalidSpotPriceLimit.LowerThanPublicPrice", "spot_price_limit");
  Bad("POST", "/v1/alibaba/instances",
      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","spot_strategy":"SpotWithPriceLimit"})",
      400, "MissingParameter.SpotPriceLimit", "spot_price_limit");
  Bad("POST", "/v1/alibaba/instances", R"({"zone":"nowhere-1a","type":"ecs.c5.8xlarge"})", 400,
      "InvalidZoneId.NotFound", "zone");
  Bad("POST", "/v1/alibaba/instances",
      R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge","spot_strategy":"SpotAsPriceGo","amount":19})",
      409, "OperationDenied.NoStock", "");
  Bad("GET", "/v1/alibaba/instances?everything=true", "", 400, "unknown_field", "everything");
  Bad("GET", "/v1/alibaba/instances/i-nope", "", 404, "InvalidInstanceId.NotFound", "");
  EXPECT_EQ(LastSeq(), seq);
  EXPECT_EQ(Call("GET", "/v1/alibaba/instances")["TotalCount"], 2);
  EXPECT_EQ(Call("GET", "/v1/pools/ecs.c5.8xlarge@cn-hangzhou-b")["spot_running"], 2);
}

TEST_F(FlavorRoutesTest, AlibabaStopStartDeleteInDescribeInstancesWords) {
  const std::string id = RunAlibaba();
  const std::string path = "/v1/alibaba/instances/" + id;

  // Bad stop / start / delete: nothing changes.
  Bad("POST", path + "/stop", R"({"stopped_mode":"Sleep"})", 400, "InvalidParameter.StoppedMode",
      "stopped_mode");
  Bad("POST", path + "/stop", R"({"mode":"StopCharging"})", 400, "unknown_field", "mode");
  Bad("POST", path + "/start", "", 409, "IncorrectInstanceStatus", "");
  Bad("POST", path + "/start", R"({"now":true})", 400, "unknown_field", "now");
  Bad("DELETE", path, "", 409, "IncorrectInstanceStatus", "");  // running, no force
  Bad("DELETE", path + "?force=maybe", "", 400, "invalid_value", "force");
  Bad("DELETE", path + "?forced=true", "", 400, "unknown_field", "forced");
  Bad("POST", "/v1/alibaba/instances/i-nope/stop", "", 404, "InvalidInstanceId.NotFound", "");
  EXPECT_EQ(Call("GET", path)["Status"], "Running");

  json stopped = Call("POST", path + "/stop", R"({"stopped_mode":"StopCharging"})");
  EXPECT_EQ(stopped["Status"], "Stopped");
  EXPECT_EQ(stopped["StoppedMode"], "StopCharging");
  EXPECT_EQ(Call("GET", "/v1/instances/" + id)["cloud_state"], "Stopped");
  EXPECT_EQ(Call("GET", kAliPool)["spot_running"], 0);  // StopCharging gives the slot back
  json started = Call("POST", path + "/start", "{}");
  EXPECT_EQ(started["Status"], "Running");
  EXPECT_EQ(Call("POST", path + "/stop")["StoppedMode"], "KeepCharging");  // the default
  json deleted = Call("DELETE", path);  // a stopped instance needs no force
  EXPECT_EQ(deleted["Status"], "Released");
  EXPECT_EQ(Call("GET", "/v1/alibaba/instances")["TotalCount"], 0);
  EXPECT_EQ(Call("GET", "/v1/alibaba/instances?include_released=true")["TotalCount"], 1);

  const std::string other = RunAlibaba();
  EXPECT_EQ(Call("DELETE", "/v1/alibaba/instances/" + other + "?force=true")["Status"], "Released");
  EXPECT_EQ(Imds("/" + other + "/latest/meta-data/instance-id").status, 404);
}

TEST_F(FlavorRoutesTest, AlibabaForcedReleaseNoticeReachesImdsAndReleases) {
  const std::string id = RunAlibaba();
  const std::string path = "/v1/alibaba/instances/" + id;
  Bad("POST", path + "/recycle", R"({"in":"1m"})", 400, "unknown_field", "in");
  EXPECT_EQ(Imds("/" + id + "/latest/meta-data/instance/spot/termination-time").status, 404);

  Call("POST", "/v1/clock/advance", R"({"by":"10m"})");
  json r = Call("POST", path + "/recycle");
  ASSERT_EQ(r["OperationLocks"]["LockReason"].size(), 1u) << r.dump();
  EXPECT_EQ(r["OperationLocks"]["LockReason"][0]["LockReason"], "Recycling");
  EXPECT_EQ(r["TerminationTime"], "2026-04-07T00:15:00Z");
  EXPECT_EQ(r["Status"], "Running");
  EXPECT_EQ(Call("GET", "/v1/instances/" + id)["cloud_state"], "To Be Released");
  ParsedResponse t = Imds("/" + id + "/latest/meta-data/instance/spot/termination-time");
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.body, "2026-04-07T00:15:00Z");
  // A second notice is refused; stop is refused while To Be Released.
  Bad("POST", path + "/recycle", "", 409, "IncorrectInstanceStatus", "");
  Bad("POST", path + "/stop", "", 409, "IncorrectInstanceStatus", "");

  Call("POST", "/v1/clock/advance", R"({"by":"5m"})");
  EXPECT_EQ(Call("GET", path)["Status"], "Released");
  // NoSpot is never recycled.
  json payg = Call("POST", "/v1/alibaba/instances",
                   R"({"zone":"cn-hangzhou-b","type":"ecs.c5.8xlarge"})", 201);
  Bad("POST",
      "/v1/alibaba/instances/" + payg["InstanceIdSets"]["InstanceIdSet"][0].get<std::string>() +
          "/recycle",
      "", 409, "IncorrectInstanceStatus", "");
}

TEST_F(FlavorRoutesTest, AlibabaSpotAdviceCountsRecycledInstances) {
  const std::string id = RunAlibaba();
  Call("POST", "/v1/alibaba/instances/" + id + "/recycle");
  json a = Call("GET", "/v1/alibaba/spot-advice?zone=cn-hangzhou-b&type=ecs.c5.8xlarge");
  const json& zones = a["AvailableSpotZones"]["AvailableSpotZone"];
  ASSERT_EQ(zones.size(), 1u) << a.dump();
  EXPECT_EQ(zones[0]["ZoneId"], kAliZone);
  const json& res = zones[0]["AvailableSpotResources"]["AvailableSpotResource"];
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0]["InstanceType"], kAliType);
  EXPECT_EQ(res[0]["Instances"], 1);
  EXPECT_EQ(res[0]["Recycled"], 1);
  EXPECT_EQ(res[0]["InterruptRateDesc"], "10-100%");
  EXPECT_EQ(res[0]["AverageSpotDiscount"], 10);  // 0.152 of 1.52
  // Unfiltered: every pool.
  EXPECT_EQ(
      Call("GET", "/v1/alibaba/spot-advice")["AvailableSpotZones"]["AvailableSpotZone"].size(), 2u);
  Bad("GET", "/v1/alibaba/spot-advice?zone=nowhere", "", 400, "InvalidZoneId.NotFound", "zone");
  Bad("GET", "/v1/alibaba/spot-advice?type=t9.huge", "", 400,
      "InvalidInstanceType.ValueNotSupported", "type");
  Bad("GET", "/v1/alibaba/spot-advice?region=cn", "", 400, "unknown_field", "region");
}

TEST_F(FlavorRoutesTest, AlibabaBillingPerInstance) {
  const std::string id = RunAlibaba();
  Call("POST", "/v1/clock/advance", R"({"by":"1h"})");
  json b = Call("GET", "/v1/alibaba/instances/" + id + "/billing");
  EXPECT_EQ(b["instance"], id);
  EXPECT_NEAR(b["usd"].get<double>(), 0.152, 1e-9);  // the protection hour at the creation price
  EXPECT_DOUBLE_EQ(b["charged"].get<double>(), 0.15);
  EXPECT_DOUBLE_EQ(b["billed_seconds"].get<double>(), 3600);
  EXPECT_EQ(Call("GET", "/v1/instances/" + id + "/billing"), b);
  Bad("GET", "/v1/alibaba/instances/i-nope/billing", "", 404, "InvalidInstanceId.NotFound", "");
}

// --- AWS -----------------------------------------------------------------------------------

TEST_F(FlavorRoutesTest, AwsSpotRequestsCreateDescribeCancel) {
  json made = Call("POST", "/v1/aws/spot-requests",
                   R"({"instance_type":"m5.large","zone":"us-east-1a","instance_count":2,)"
                   R"("type":"persistent","max_price":0.05,"interruption_behavior":"stop",)"
                   R"("valid_until":"2026-04-08T00:00:00Z","launch_group":"lg",)"
                   R"("availability_zone_group":"azg","name":"ci"})",
                   201);
  ASSERT_EQ(made["spot_requests"].size(), 2u) << made.dump();
  for (const json& r : made["spot_requests"]) {
    EXPECT_EQ(r["state"], "active") << r.dump();
    EXPECT_EQ(r["status"]["code"], "fulfilled");
    EXPECT_EQ(r["type"], "persistent");
    EXPECT_EQ(r["launch_group"], "lg");
    EXPECT_EQ(r["valid_until"], "2026-04-08T00:00:00Z");
    EXPECT_TRUE(r["instance_id"].is_string());
  }
  const std::string sir = made["spot_requests"][0]["id"];
  const std::string inst = made["spot_requests"][0]["instance_id"];
  EXPECT_EQ(Call("GET", "/v1/aws/spot-requests")["spot_requests"].size(), 2u);
  EXPECT_EQ(Call("GET", "/v1/aws/spot-requests/" + sir)["max_price"], 0.05);
  json view = Call("GET", "/v1/instances/" + inst);
  EXPECT_EQ(view["cloud"]["SpotInstanceRequestId"], sir);
  EXPECT_EQ(view["cloud_state"], "running (spot request active/fulfilled)");

  json cancelled = Call("DELETE", "/v1/aws/spot-requests/" + sir);
  EXPECT_EQ(cancelled["state"], "cancelled");
  EXPECT_EQ(cancelled["status"]["code"], "request-canceled-and-instance-running");
  EXPECT_EQ(Call("GET", "/v1/instances/" + inst)["state"], "running");

  // Open (price too low), then cancelled before fulfilment.
  json low = Call("POST", "/v1/aws/spot-requests",
                  R"({"instance_type":"m5.large","zone":"us-east-1a","max_price":0.01})", 201);
  EXPECT_EQ(low["spot_requests"][0]["state"], "open");
  EXPECT_EQ(low["spot_requests"][0]["status"]["code"], "price-too-low");
  json c =
      Call("DELETE", "/v1/aws/spot-requests/" + low["spot_requests"][0]["id"].get<std::string>());
  EXPECT_EQ(c["status"]["code"], "canceled-before-fulfillment");

  // Bad requests create nothing.
  const uint64_t seq = LastSeq();
  const std::string base = R"({"instance_type":"m5.large","zone":"us-east-1a",)";
  Bad("POST", "/v1/aws/spot-requests", base + R"("block_duration_minutes":90})", 400,
      "InvalidParameterValue", "block_duration_minutes");
  Bad("POST", "/v1/aws/spot-requests", base + R"("type":"sometimes"})", 400,
      "InvalidParameterValue", "type");
  Bad("POST", "/v1/aws/spot-requests", base + R"("interruption_behavior":"stop"})", 400,
      "InvalidParameterValue", "interruption_behavior");
  Bad("POST", "/v1/aws/spot-requests", base + R"("valid_until":"2026-04-06T00:00:00Z"})", 400,
      "InvalidParameterValue", "valid_until");
  Bad("POST", "/v1/aws/spot-requests", base + R"("valid_from":"yesterday"})", 400, "invalid_value",
      "valid_from");
  Bad("POST", "/v1/aws/spot-requests", base + R"("instance_count":0})", 400, "out_of_range",
      "instance_count");
  Bad("POST", "/v1/aws/spot-requests", base + R"("price":0.1})", 400, "unknown_field", "price");
  Bad("POST", "/v1/aws/spot-requests", R"({"instance_type":"m9.huge"})", 400,
      "InvalidParameterValue", "instance_type");
  Bad("GET", "/v1/aws/spot-requests/sir-nope", "", 404, "InvalidSpotInstanceRequestID.NotFound",
      "");
  Bad("DELETE", "/v1/aws/spot-requests/sir-nope", "", 404, "InvalidSpotInstanceRequestID.NotFound",
      "");
  EXPECT_EQ(LastSeq(), seq);
  EXPECT_EQ(Call("GET", "/v1/aws/spot-requests")["spot_requests"].size(), 3u);
}

TEST_F(FlavorRoutesTest, AwsRunTerminateStopStart) {
  json od = RunAws(R"({"type":"m5.large","zone":"us-east-1a","spot":false,"name":"db"})");
  EXPECT_EQ(od["cloud"]["InstanceLifecycle"], "on-demand");
  EXPECT_EQ(od["spot"], false);
  EXPECT_EQ(Imds("/" + od["id"].get<std::string>() + "/latest/meta-data/instance-life-cycle").body,
            "on-demand");
  json sp = RunAws(R"({"type":"m5.large","zone":"us-east-1a","max_price":0.05,)"
                   R"("spot_type":"persistent","interruption_behavior":"stop"})");
  const std::string id = sp["id"];
  EXPECT_EQ(sp["cloud"]["InstanceLifecycle"], "spot");
  const std::string path = "/v1/aws/instances/" + id;

  // Bad launches and actions change nothing.
  const uint64_t seq = LastSeq();
  Bad("POST", "/v1/aws/instances", R"({"type":"m5.large","zone":"us-east-1a","max_price":0.01})",
      409, "SpotMaxPriceTooLow", "max_price");
  Bad("POST", "/v1/aws/instances",
      R"({"type":"m5.large","zone":"us-east-1a","spot":false,"max_price":0.05})", 400,
      "invalid_value", "max_price");
  Bad("POST", "/v1/aws/instances", R"({"type":"m5.large","zone":"eu-west-9z"})", 400,
      "InvalidParameterValue", "zone");
  Bad("POST", "/v1/aws/instances", R"({"type":"m5.large","zone":"us-east-1a","spot":"yes"})", 400,
      "wrong_type", "spot");
  Bad("POST", path + "/stop", R"({"force":true})", 400, "unknown_field", "force");
  Bad("POST", "/v1/aws/instances/i-nope/terminate", "", 404, "InvalidInstanceID.NotFound", "");
  EXPECT_EQ(LastSeq(), seq);

  json stopped = Call("POST", path + "/stop");
  EXPECT_EQ(stopped["state"], "stopped");
  EXPECT_EQ(stopped["cloud"]["SpotRequestStatus"], "instance-stopped-by-user");
  Call("POST", "/v1/clock/advance", R"({"by":"10m"})");
  json started = Call("POST", path + "/start");
  EXPECT_EQ(started["state"], "running");
  json gone = Call("POST", path + "/terminate");
  EXPECT_EQ(gone["state"], "terminated");
  EXPECT_EQ(gone["cloud_state"].get<std::string>().rfind("terminated", 0), 0u);
  Bad("POST", path + "/start", "", 409, "IncorrectInstanceState", "");
  // A one-time spot instance cannot be stopped.
  json once = RunAws(R"({"type":"m5.large","zone":"us-east-1a"})");
  Bad("POST", "/v1/aws/instances/" + once["id"].get<std::string>() + "/stop", "", 409,
      "UnsupportedOperation", "");
}

TEST_F(FlavorRoutesTest, AwsForcedInterruptionRebalanceAndLifecycleState) {
  const std::string id = RunAws(R"({"type":"m5.large","zone":"us-east-1a"})")["id"];
  const std::string path = "/v1/aws/instances/" + id;
  Bad("POST", path + "/interrupt", R"({"in":"7h"})", 400, "out_of_range", "in");
  Bad("POST", path + "/interrupt", R"({"action":"explode"})", 400, "InvalidParameterValue",
      "action");
  Bad("POST", path + "/interrupt", R"({"action":"stop"})", 400, "InvalidParameterValue",
      "action");  // one-time: only terminate
  EXPECT_EQ(Imds("/" + id + "/latest/meta-data/spot/instance-action").status, 404);
  EXPECT_EQ(Imds("/" + id + "/latest/meta-data/events/recommendations/rebalance").status, 404);

  json r = Call("POST", path + "/interrupt", R"({"action":"terminate","in":"90s"})");
  EXPECT_EQ(r["cloud"]["SpotRequestStatus"], "marked-for-termination");
  ParsedResponse action = Imds("/" + id + "/latest/meta-data/spot/instance-action");
  EXPECT_EQ(action.status, 200);
  EXPECT_EQ(json::parse(action.body),
            json::parse(R"({"action":"terminate","time":"2026-04-07T00:01:30Z"})"));
  EXPECT_EQ(Imds("/" + id + "/latest/meta-data/events/recommendations/rebalance").status, 200);
  Call("POST", "/v1/clock/advance", R"({"by":"90s"})");
  EXPECT_EQ(Call("GET", "/v1/instances/" + id)["state"], "terminated");

  // Rebalance alone, on another instance; not for on-demand.
  const std::string other = RunAws(R"({"type":"m5.large","zone":"us-east-1a"})")["id"];
  Bad("POST", "/v1/aws/instances/" + other + "/rebalance", R"({"soon":1})", 400, "unknown_field",
      "soon");
  Call("POST", "/v1/aws/instances/" + other + "/rebalance");
  EXPECT_EQ(Call("GET", "/v1/instances/" + other)["metadata"]["rebalance_notice_time"],
            "2026-04-07T00:01:30Z");
  const std::string od = RunAws(R"({"type":"m5.large","zone":"us-east-1a","spot":false})")["id"];
  Bad("POST", "/v1/aws/instances/" + od + "/rebalance", "", 409, "IncorrectInstanceState", "");

  // Auto Scaling target lifecycle state.
  Bad("PUT", "/v1/aws/instances/" + other + "/lifecycle-state", R"({"state":"Gone"})", 400,
      "invalid_value", "state");
  Bad("PUT", "/v1/aws/instances/" + other + "/lifecycle-state", "{}", 400, "missing_field",
      "state");
  EXPECT_EQ(Imds("/" + other + "/latest/meta-data/autoscaling/target-lifecycle-state").status, 404);
  Call("PUT", "/v1/aws/instances/" + other + "/lifecycle-state", R"({"state":"Terminated"})");
  ParsedResponse ls = Imds("/" + other + "/latest/meta-data/autoscaling/target-lifecycle-state");
  EXPECT_EQ(ls.status, 200);
  EXPECT_EQ(ls.body, "Terminated");
}

TEST_F(FlavorRoutesTest, AwsScheduledEventsCreateCancelComplete) {
  const std::string id = RunAws(R"({"type":"m5.large","zone":"us-east-1a","spot":false})")["id"];
  const std::string path = "/v1/aws/instances/" + id + "/scheduled-events";
  const uint64_t seq = LastSeq();
  Bad("POST", path, R"({"code":"meteor","not_before":"2026-04-08T00:00:00Z"})", 400,
      "invalid_value", "code");
  Bad("POST", path, R"({"code":"system-reboot"})", 400, "missing_field", "not_before");
  Bad("POST", path,
      R"({"code":"system-reboot","not_before":"2026-04-08T00:00:00Z","not_after":"2026-04-07T00:00:00Z"})",
      400, "out_of_range", "not_after");
  Bad("POST", "/v1/aws/instances/i-nope/scheduled-events",
      R"({"code":"system-reboot","not_before":"2026-04-08T00:00:00Z"})", 404,
      "InvalidInstanceID.NotFound", "");
  EXPECT_EQ(LastSeq(), seq);

  json a = Call("POST", path,
                R"({"code":"system-reboot","not_before":"2026-04-08T09:00:43Z",)"
                R"("not_after":"2026-04-08T11:00:00Z"})",
                201);
  const std::string e1 = a["event_id"];
  EXPECT_EQ(e1.rfind("instance-event-", 0), 0u);
  json b = Call("POST", path,
                R"({"code":"instance-retirement","not_before":"2026-04-09T00:00:00Z",)"
                R"("description":"hardware"})",
                201);
  const std::string e2 = b["event_id"];
  ParsedResponse listed = Imds("/" + id + "/latest/meta-data/events/maintenance/scheduled");
  ASSERT_EQ(listed.status, 200);
  json events = json::parse(listed.body);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["NotBefore"], "8 Apr 2026 09:00:43 GMT");
  EXPECT_EQ(events[0]["State"], "active");

  json c = Call("POST", path + "/" + e1 + "/cancel");
  EXPECT_EQ(c["scheduled_events"][0]["state"], "canceled");
  Bad("POST", path + "/" + e1 + "/cancel", "", 409, "InvalidState", "");
  Bad("POST", path + "/instance-event-00000000000000000/complete", "", 404,
      "InvalidInstanceEventID.NotFound", "");
  Bad("POST", path + "/" + e2 + "/complete", R"({"now":true})", 400, "unknown_field", "now");
  EXPECT_EQ(Call("GET", "/v1/instances/" + id)["state"], "running");
  json done = Call("POST", path + "/" + e2 + "/complete");
  EXPECT_EQ(done["scheduled_events"][1]["state"], "completed");
  // A completed retirement terminates the instance.
  EXPECT_EQ(Call("GET", "/v1/instances/" + id)["state"], "terminated");
}

TEST_F(FlavorRoutesTest, AwsBillingPerInstance) {
  const std::string id = RunAws(R"({"type":"m5.large","zone":"us-east-1a","spot":false})")["id"];
  Call("POST", "/v1/clock/advance", R"({"by":"30m"})");
  json b = Call("GET", "/v1/aws/instances/" + id + "/billing");
  EXPECT_NEAR(b["usd"].get<double>(), 0.048, 1e-9);  // half an hour on demand at 0.096
  EXPECT_EQ(b["seconds_billed"], 1800);
  EXPECT_EQ(Call("GET", "/v1/instances/" + id + "/billing"), b);
  Bad("GET", "/v1/aws/instances/i-nope/billing", "", 404, "InvalidInstanceID.NotFound", "");
}

// --- both ----------------------------------------------------------------------------------

TEST_F(FlavorRoutesTest, BillingCoversEveryInstanceAndTheAccountTotal) {
  const std::string ali = RunAlibaba();
  const std::string aws = RunAws(R"({"type":"m5.large","zone":"us-east-1a","spot":false})")["id"];
  const std::string plain =
      Call("POST", "/v1/instances", R"({"flavor":"aws","type":"m5.large","zone":"us-east-1a"})",
           201)["id"];
  Call("POST", "/v1/clock/advance", R"({"by":"1h"})");
  json bill = Call("GET", "/v1/billing");
  ASSERT_EQ(bill["instances"].size(), 3u) << bill.dump();
  double sum = 0;
  for (const json& line : bill["instances"]) {
    if (line["instance"] == plain) {
      EXPECT_EQ(line["usd"], 0.0);
      EXPECT_THAT(line["note"].get<std::string>(), HasSubstr("not billed"));
    }
    sum += line["flavor"] == "alibaba" ? line["charged"].get<double>() : line["usd"].get<double>();
  }
  EXPECT_DOUBLE_EQ(bill["alibaba"]["charged"].get<double>(), 0.15);
  EXPECT_NEAR(bill["aws"]["usd"].get<double>(), 0.096, 1e-9);
  EXPECT_NEAR(bill["total_usd"].get<double>(), sum, 1e-9);
  EXPECT_NEAR(bill["total_usd"].get<double>(), 0.246, 1e-9);
  Bad("GET", "/v1/billing?instance=" + aws, "", 400, "unknown_field", "instance");
  Bad("GET", "/v1/instances/i-nope/billing", "", 404, "InvalidInstanceID.NotFound", "");
}

TEST_F(FlavorRoutesTest, InstancesListShowsEachCloudsOwnState) {
  const std::string ali = RunAlibaba();
  const std::string aws = RunAws(R"({"type":"m5.large","zone":"us-east-1a"})")["id"];
  Call("POST", "/v1/alibaba/instances/" + ali + "/stop", R"({"stopped_mode":"KeepCharging"})");
  json list = Call("GET", "/v1/instances");
  ASSERT_EQ(list["instances"].size(), 2u);
  for (const json& i : list["instances"]) {
    if (i["id"] == ali) {
      EXPECT_EQ(i["cloud_state"], "Stopped");
      EXPECT_EQ(i["cloud"]["StoppedMode"], "KeepCharging");
    } else {
      EXPECT_EQ(i["cloud_state"], "running (spot request active/fulfilled)");
      EXPECT_EQ(i["cloud"]["State"]["Name"], "running");
    }
  }
  // The routes are listed.
  json routes = Call("GET", "/v1/routes");
  const std::string all = routes["routes"].dump();
  for (const char* r :
       {"POST /v1/alibaba/instances", "GET /v1/alibaba/spot-advice", "POST /v1/aws/spot-requests",
        "PUT /v1/aws/instances/{id}/lifecycle-state", "GET /v1/billing"}) {
    EXPECT_THAT(all, HasSubstr(r));
  }
}

}  // namespace
}  // namespace lastcall::testing
