// Fuzzes mockmeta's ECS (Alibaba Cloud, RPC style) API in process: the input is one or more HTTP
// requests (wire text, see http_input.h) handled by EcsApi over the fuzz world's market (form and
// query decoding, JSON-array list parameters, Tag.N, V1/V3 signature parsing, every action's
// parameter reading, pagination, DryRun). The host clock moves one second between requests.
//
// Oracles: no crash, sanitizer report or timeout; every answer has a known status and a JSON
// body, errors with ECS's Code and RequestId.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/http_input.h"
#include "fuzz/mock_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  auto requests =
      fuzz::SplitHttpRequests(std::string_view(reinterpret_cast<const char*>(data), size), 16);
  if (requests.empty()) return 0;
  fuzz::MockWorld world;
  for (const fuzz::FuzzRequest& f : requests) {
    const mock::HttpRequest& req = f.http;
    const mock::HttpResponse r = world.Ecs(req);
    FUZZ_CHECK(r.status >= 200 && r.status <= 599, "ECS %s %s: status %d", req.method.c_str(),
               req.target.c_str(), r.status);
    nlohmann::json body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(body.is_object() && body.contains("RequestId"),
               "ECS %s %s: %d answer is not a JSON object with a RequestId: %.200s",
               req.method.c_str(), req.target.c_str(), r.status, r.body.c_str());
    if (r.status >= 400) {
      FUZZ_CHECK(body.contains("Code") && body["Code"].is_string(),
                 "ECS %s %s: %d answer without an error code: %.200s", req.method.c_str(),
                 req.target.c_str(), r.status, r.body.c_str());
    }
    world.Advance(std::chrono::seconds(1));
  }
  world.Finish();
  return 0;
}
