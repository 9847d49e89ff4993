// Fuzzes mockmeta's scenario loader (LoadScenarioText, mockmeta/core/scenario.h, with the
// flavor sections in scenario_aws.cc / scenario_alibaba.cc) over TOML text, as uploaded through
// POST /v1/scenario or given on the command line; toml++ is compiled into the fuzz build with
// its assertions on. A scenario that loads is then run for one virtual hour, so its price
// models, timed actions and flavor sections are exercised too.
//
// Oracles: no crash, assertion, sanitizer report, escaping exception or timeout (one hour of a
// loaded scenario must be quick: the server has one thread); the run reports no engine error
// other than a Status.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mockmeta/core/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  auto market = mock::LoadScenarioText(std::string_view(reinterpret_cast<const char*>(data), size),
                                       "fuzz.toml");
  if (!market.ok()) return 0;
  mock::Market& m = **market;
  (void)m.AdvanceTo(m.start() + std::chrono::hours(1));
  return 0;
}
