// The ECS API face on the real mockmeta binary (docs/mockmeta-ecs.md): the listener comes up on
// --ecs-listen and is in the ready line; bad input (malformed query, unknown action, wrong
// types, Amount=1000, a POST body that is not a form) gets ECS's error document, nothing is
// half-applied, and the server keeps serving; what ECS made shows in the control API and IMDS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "mockmeta/testing/mockmeta_process.h"
#include "tests/support/test_env.h"

namespace lastcall::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kRun =
    "/?Action=RunInstances&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou"
    "&ZoneId=cn-hangzhou-b&InstanceType=ecs.c5.8xlarge&SpotStrategy=SpotAsPriceGo";

class MockmetaEcsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = MockmetaProcess::Start({"--imds-listen", "127.0.0.1:0", "--control-listen",
                                     "127.0.0.1:0", "--ec2-listen", "127.0.0.1:0", "--ecs-listen",
                                     "127.0.0.1:0", "--clock", "manual"});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    proc_ = std::move(p).value();
    ASSERT_TRUE(proc_->ready().contains("ecs")) << proc_->ready().dump();
    ecs_ = ParseEndpoint(proc_->ready()["ecs"]);
  }
  void TearDown() override {
    if (proc_) {
      EXPECT_EQ(proc_->Terminate(), 0) << proc_->Stderr();
    }
  }
  // An ECS call: the HTTP status and the JSON body.
  std::pair<int, json> Ecs(const std::string& method, const std::string& target,
                           const std::string& body = "", const mock::HttpHeaders& headers = {}) {
    auto r = Http(ecs_, method, target, body, headers);
    EXPECT_TRUE(r.has_value()) << target << "; stderr:\n" << proc_->Stderr();
    if (!r) return {0, json::object()};
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    EXPECT_TRUE(j.contains("RequestId")) << r->body;
    return {r->status, j.is_discarded() ? json::object() : j};
  }
  void ExpectError(const std::string& target, int status, const std::string& code,
                   const std::string& method = "GET", const std::string& body = "",
                   const mock::HttpHeaders& headers = {}) {
    auto [s, j] = Ecs(method, target, body, headers);
    EXPECT_EQ(s, status) << target << ": " << j.dump();
    EXPECT_EQ(j.value("Code", ""), code) << target;
    EXPECT_FALSE(j.value("Message", "").empty()) << target;
    EXPECT_TRUE(j.contains("HostId") && j.contains("Recommend")) << j.dump();
  }
  size_t AlibabaInstances() {
    auto r = Http(proc_->control(), "GET", "/v1/alibaba/instances");
    EXPECT_TRUE(r.has_value());
    return r ? json::parse(r->body)["Instances"]["Instance"].size() : 0;
  }

  std::unique_ptr<MockmetaProcess> proc_;
  Endpoint ecs_;
};

TEST_F(MockmetaEcsTest, BadInputGetsEcsErrorsAppliesNothingAndTheServerKeepsServing) {
  const size_t before = AlibabaInstances();
  ExpectError("/?Action=RunInstances&Version=2014-05-26&RegionId=%zz", 400, "InvalidParameter");
  ExpectError("/?Action=LaunchRockets&Version=2014-05-26", 404, "InvalidAction.NotFound");
  ExpectError("/?Action=DescribeRegions&Version=2016-11-15", 400, "InvalidVersion");
  ExpectError(std::string(kRun) + "&Amount=two", 400, "InvalidParameter");
  ExpectError(std::string(kRun) + "&Amount=1000", 400, "InvalidParameter.Amount");
  ExpectError(std::string(kRun) + "&DryRun=maybe", 400, "InvalidParameter");
  ExpectError(std::string(kRun) + "&SpotDuration=3", 400, "InvalidSpotDuration");
  ExpectError(
      "/?Action=DescribeInstances&Version=2014-05-26&RegionId=cn-hangzhou"
      "&InstanceIds=%5B%22i-1%22",
      400, "InvalidParameter");
  ExpectError("/", 400, "InvalidParameter", "POST", "{\"Action\":\"RunInstances\"}",
              {{"Content-Type", "application/json"}});
  ExpectError("/?Action=RunInstances&Version=2014-05-26&Action=RunInstances", 400,
              "InvalidParameter");
  EXPECT_EQ(AlibabaInstances(), before) << "nothing half-applied";
  // Still serving, and a good call works.
  auto [s, j] = Ecs("GET", kRun);
  ASSERT_EQ(s, 200) << j.dump();
  const std::string id = j["InstanceIdSets"]["InstanceIdSet"][0];
  EXPECT_EQ(AlibabaInstances(), before + 1);
  // One market: the control API and the instance's metadata know it.
  auto ctl = Http(proc_->control(), "GET", "/v1/alibaba/instances/" + id);
  ASSERT_TRUE(ctl.has_value());
  EXPECT_EQ(ctl->status, 200);
  auto md = Http(proc_->imds(), "GET", "/" + id + "/latest/meta-data/instance-id");
  ASSERT_TRUE(md.has_value());
  EXPECT_EQ(md->body, id);
}

TEST_F(MockmetaEcsTest, PostFormBodyAndV3HeadersAreRead) {
  auto [s, j] = Ecs("POST", "/",
                    "RegionId=cn-hangzhou&ZoneId=cn-hangzhou-b&InstanceType=ecs.c5.8xlarge"
                    "&SpotStrategy=SpotAsPriceGo&Amount=2",
                    {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"x-acs-action", "RunInstances"},
                     {"x-acs-version", "2014-05-26"}});
  ASSERT_EQ(s, 200) << j.dump();
  EXPECT_EQ(j["InstanceIdSets"]["InstanceIdSet"].size(), 2u);
}

TEST(MockmetaEcsCliTest, BadCredentialsFileIsAUsageError) {
  const std::string path = ::testing::TempDir() + "/bad-aliyun.json";
  std::ofstream(path) << "{\"profiles\":[{\"access_key_id\":\"AK\"}]}";
  ExitResult r = RunMockmetaToExit({"--imds-listen", "127.0.0.1:0", "--control-listen",
                                    "127.0.0.1:0", "--ec2-listen", "127.0.0.1:0", "--ecs-listen",
                                    "127.0.0.1:0", "--alibaba-credentials", path});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--alibaba-credentials"));
  EXPECT_THAT(r.err, HasSubstr("profiles[0]"));
}

}  // namespace
}  // namespace lastcall::testing
