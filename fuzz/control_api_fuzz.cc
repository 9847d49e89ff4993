// Fuzzes mockmeta's control API in process: the input is one or more HTTP requests (wire text,
// see http_input.h) dispatched through ControlApi and its ControlRouter (routes, path
// parameters, query strings, the strict JSON body reader, scenario uploads, fault rules, clock
// moves) against a fresh MockWorld. The host clock moves one second between requests, so
// speed and realtime modes run the market too.
//
// Oracles: no crash, sanitizer report, escaping exception (a handler must not throw) or timeout
// (the server has one thread); every answer has a known status and a JSON body, errors with a
// code (CheckControlResponse).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/http_input.h"
#include "fuzz/mock_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  auto requests =
      fuzz::SplitHttpRequests(std::string_view(reinterpret_cast<const char*>(data), size), 16);
  if (requests.empty()) return 0;
  fuzz::MockWorld world;
  for (const fuzz::FuzzRequest& r : requests) {
    world.Control(r.http);
    world.Advance(std::chrono::seconds(1));
  }
  world.Finish();
  return 0;
}
