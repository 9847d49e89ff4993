#include "fuzz/mock_world.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "fuzz/fuzz_check.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::fuzz {
namespace {

using nlohmann::json;

// Seed 11: the instance ids the seed inputs name (kAwsInstance, ...) follow from it.
mock::ScenarioBuilder Scenario() {
  mock::ScenarioBuilder b;
  b.Seed(11).Start("2026-04-07T00:00:00Z").AccountId("123456789012");
  b.Aws().Zone("cn-hangzhou-b", "cn-hangzhou").Type("ecs.g6.large", 2, 8, 0.1);
  b.Pool("m5.large", "us-east-1a", 5, 0.03,
         mock::WalkModel{
             .step = "5m", .mean = 0.03, .floor = 0.01, .volatility = 0.05, .reversion = 0.2});
  b.Pool("ecs.g6.large", "cn-hangzhou-b", 5, 0.02);
  b.SetPrice("10m", "m5.large@us-east-1a", 0.05);
  return b;
}

std::unique_ptr<mock::World> LoadFixedScenario() {
  auto m = Scenario().Load("fuzz-world.toml");
  if (!m.ok()) {
    std::fprintf(stderr, "fuzz world: %s\n", m.status().ToString().c_str());
    std::abort();
  }
  return std::move(m).value();
}

}  // namespace

MockWorld::MockWorld()
    : host_(clock_, LoadFixedScenario(), mock::ClockSpec{mock::ClockMode::kManual, 0}),
      vclock_(host_),
      directory_(host_),
      tokens_(vclock_, 7),
      api_(host_, directory_, tokens_, faults_),
      imds_(directory_, tokens_, faults_),
      ec2_(host_),
      ecs_(host_) {
  aws_instance_ = Setup("POST", "/v1/aws/instances", R"({"type":"m5.large","zone":"us-east-1a"})");
  Setup("POST", "/v1/aws/instances/" + aws_instance_ + "/interrupt",
        R"({"action":"terminate","in":"2m"})");
  aws_tokens_instance_ = Setup("POST", "/v1/aws/instances",
                               R"({"type":"m5.large","zone":"us-east-1a","spot":false,)"
                               R"("http_tokens":"required"})");
  Setup("POST", "/v1/aws/instances/" + aws_tokens_instance_ + "/scheduled-events",
        R"({"code":"system-reboot","not_before":"2026-04-08T00:00:00Z",)"
        R"("not_after":"2026-04-08T02:00:00Z","description":"scheduled reboot"})");
  Setup("PUT", "/v1/aws/instances/" + aws_tokens_instance_ + "/lifecycle-state",
        R"({"state":"InService"})");
  alibaba_instance_ = Setup("POST", "/v1/alibaba/instances",
                            R"({"zone":"cn-hangzhou-b","type":"ecs.g6.large",)"
                            R"("spot_strategy":"SpotAsPriceGo"})");
  Setup("POST", "/v1/alibaba/instances/" + alibaba_instance_ + "/recycle", "");
  directory_.BindListener("aws", aws_instance_);
  directory_.BindListener("alibaba", alibaba_instance_);
  // For whoever writes seeds: the ids to put in path prefixes.
  static const bool show = std::getenv("LASTCALL_FUZZ_SHOW_WORLD") != nullptr;
  if (show) {
    std::fprintf(stderr, "fuzz world: aws %s, aws (tokens required) %s, alibaba %s\n",
                 aws_instance_.c_str(), aws_tokens_instance_.c_str(), alibaba_instance_.c_str());
  }
}

// One setup call; it must succeed. Returns the new instance's id, if the answer names one.
std::string MockWorld::Setup(const std::string& method, const std::string& target,
                             std::string body) {
  auto r = Control(mock::HttpRequest::Make(method, target, {}, std::move(body)));
  if (!r || r->status >= 300) {
    std::fprintf(stderr, "fuzz world: %s %s: %d %s\n", method.c_str(), target.c_str(),
                 r ? r->status : 0, r ? r->body.c_str() : "(parked)");
    std::abort();
  }
  json j = json::parse(r->body);
  if (j.contains("id")) return j["id"].get<std::string>();
  if (j.contains("InstanceIdSets")) return j["InstanceIdSets"]["InstanceIdSet"][0];
  return "";
}

std::optional<mock::HttpResponse> MockWorld::Control(const mock::HttpRequest& request) {
  // The responder may be kept (a long poll) and called from Finish(), after this returns.
  auto out = std::make_shared<std::optional<mock::HttpResponse>>();
  auto check = [request](const mock::HttpResponse& r) { CheckControlResponse(request, r); };
  api_.Handle(request, mock::RequestContext{"control", "127.0.0.1", 40000},
              [out, check](mock::HttpResponse r) {
                check(r);
                *out = std::move(r);
              });
  return *out;
}

mock::HttpResponse MockWorld::Imds(const mock::HttpRequest& request, const std::string& listener) {
  return imds_.Handle(
      request, mock::RequestContext{listener.empty() ? "imds" : listener, "127.0.0.1", 40001});
}

mock::HttpResponse MockWorld::Ec2(const mock::HttpRequest& request) {
  return ec2_.Handle(request, mock::RequestContext{"ec2", "127.0.0.1", 40002});
}

mock::HttpResponse MockWorld::Ecs(const mock::HttpRequest& request) {
  return ecs_.Handle(request, mock::RequestContext{"ecs", "127.0.0.1", 40003});
}

void MockWorld::Advance(Duration d) {
  clock_.Advance(d);
  host_.Tick();
  api_.Tick();
}

void CheckControlResponse(const mock::HttpRequest& request, const mock::HttpResponse& response) {
  FUZZ_CHECK(response.status >= 100 && response.status <= 599, "%s %s: status %d",
             request.method.c_str(), request.target.c_str(), response.status);
  if (response.content_type.find("json") == std::string::npos) return;
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!body.is_discarded(), "%s %s: %d answer is not JSON: %.200s", request.method.c_str(),
             request.target.c_str(), response.status, response.body.c_str());
  if (response.status >= 400) {
    FUZZ_CHECK(body.is_object() && body.contains("error") && body["error"].is_object() &&
                   body["error"].contains("code") && body["error"]["code"].is_string(),
               "%s %s: %d answer without an error code: %.200s", request.method.c_str(),
               request.target.c_str(), response.status, response.body.c_str());
  }
}

}  // namespace lastcall::fuzz
