// Fuzzes lastcalld's config loader (ParseConfig, agent/runtime/config_loader.h) over TOML text:
// toml++ itself (compiled into the fuzz build with its assertions on) and the strict validation of
// every key behind it.
//
// Oracles: no crash, assertion, sanitizer report or escaping exception; a config that parses
// renders (FormatConfig, what `--check-config --verbose` prints) to TOML that parses again and
// renders the same, so the effective config shown is the config in force.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/runtime/config_loader.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  auto config =
      ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (!config.ok()) return 0;
  std::string shown = FormatConfig(*config);
  auto again = ParseConfig(shown, "shown.toml");
  FUZZ_CHECK(again.ok(), "FormatConfig's output does not parse: %s\n%s",
             again.status().ToString().c_str(), shown.c_str());
  FUZZ_CHECK(FormatConfig(*again) == shown, "FormatConfig's output parses to another config:\n%s",
             shown.c_str());
  return 0;
}
