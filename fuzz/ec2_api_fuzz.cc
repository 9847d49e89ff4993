// Fuzzes mockmeta's EC2 Query API in process: the input is one or more HTTP requests (wire text,
// see http_input.h) handled by Ec2Api over the fuzz world's market (form and query decoding,
// X.N lists and filters, SigV4 header parsing, every action's parameter reading, pagination
// tokens, DryRun). The host clock moves one second between requests.
//
// Oracles: no crash, sanitizer report or timeout; every answer has a known status and an XML
// body, errors in EC2's <Response><Errors> shape.
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
    const mock::HttpResponse r = world.Ec2(req);
    FUZZ_CHECK(r.status >= 200 && r.status <= 599, "EC2 %s %s: status %d", req.method.c_str(),
               req.target.c_str(), r.status);
    FUZZ_CHECK(r.body.rfind("<?xml", 0) == 0, "EC2 %s %s: %d answer is not XML: %.200s",
               req.method.c_str(), req.target.c_str(), r.status, r.body.c_str());
    if (r.status >= 400) {
      FUZZ_CHECK(r.body.find("<Errors>") != std::string::npos &&
                     r.body.find("<Code>") != std::string::npos,
                 "EC2 %s %s: %d answer without an error code: %.200s", req.method.c_str(),
                 req.target.c_str(), r.status, r.body.c_str());
    }
    world.Advance(std::chrono::seconds(1));
  }
  world.Finish();
  return 0;
}
