// ScenarioBuilder: scenario TOML for tests, benches and the fuzz world, written by calls instead
// of copied text. It produces the text a scenario file would hold (so every market a test builds
// goes through the real loader, LoadScenarioText) and can load it at once:
//
//   auto market = ScenarioBuilder()
//                     .Aws()                                  // us-east-1a, m5.large
//                     .Pool("m5.large", "us-east-1a", 5, 0.03)
//                     .SetPrice("10m", "m5.large@us-east-1a", 0.05)
//                     .Entry("aws.instance", {{"type", "m5.large"}, {"zone", "us-east-1a"}})
//                     .Load();
//
// The catalog and the timed actions have their own calls; the flavor sections ([[aws.*]],
// [[alibaba.*]]) are written as key/value entries, so a new flavor key needs no change here.
// Keys are emitted in call order, top-level keys (seed, start, account_id) first, as TOML wants.
// The builder checks nothing itself: the loader's errors (file:line) are the ones a test sees.
//
// Thread-safety: a value; no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mockmeta/core/scenario.h"
#include "mockmeta/core/world.h"

namespace lastcall::mock {

// One TOML value, already written as TOML: a string (quoted and escaped), an integer, a float
// (always with a '.' or an exponent, so the loader never reads it as an integer) or a bool.
class TomlValue {
 public:
  // Implicit on purpose, so that Entry("x", {{"zone", "z1"}, {"count", 2}}) reads like the TOML.
  // NOLINTBEGIN(google-explicit-constructor)
  TomlValue(const char* s) : TomlValue(std::string_view(s)) {}
  TomlValue(std::string_view s);
  TomlValue(const std::string& s) : TomlValue(std::string_view(s)) {}
  TomlValue(int i) : TomlValue(static_cast<int64_t>(i)) {}
  TomlValue(int64_t i);
  TomlValue(double d);
  TomlValue(bool b);
  // NOLINTEND(google-explicit-constructor)
  // Text put in as it is (an inline table, an array).
  static TomlValue Raw(std::string toml);

  const std::string& toml() const { return toml_; }

 private:
  struct RawTag {};
  TomlValue(RawTag, std::string toml) : toml_(std::move(toml)) {}
  std::string toml_;
};

// The keys of one table, in order.
using TomlTable = std::vector<std::pair<std::string, TomlValue>>;

// A `walk` price model (mean-reverting random walk, docs in mockmeta/core/README.md).
struct WalkModel {
  std::string step;
  double mean = 0;
  double floor = 0;
  double volatility = 0;
  std::optional<double> reversion;  // the loader's default (0.1) when unset
};

class ScenarioBuilder {
 public:
  ScenarioBuilder& Seed(uint64_t seed);
  ScenarioBuilder& Start(std::string_view rfc3339);
  ScenarioBuilder& AccountId(std::string_view account_id);

  ScenarioBuilder& Zone(std::string_view name, std::string_view region);
  ScenarioBuilder& Type(std::string_view name, int vcpu, double memory_gib, double on_demand_price);
  // The catalogs most tests start from: Aws() is zone us-east-1a (us-east-1) and m5.large (2 vCPU,
  // 8 GiB, USD 0.096/h); Alibaba() is zone cn-hangzhou-b (cn-hangzhou) and ecs.c5.8xlarge
  // (32 vCPU, 64 GiB, pay-as-you-go USD 1.52/h). Pools are the caller's.
  ScenarioBuilder& Aws();
  ScenarioBuilder& Alibaba();

  // A pool at a fixed price (`fixed_model` writes `model = { kind = "fixed" }` out, as some
  // scenario files do; the loader's default is the same model).
  ScenarioBuilder& Pool(std::string_view type, std::string_view zone, int64_t capacity,
                        double price, bool fixed_model = false);
  // A pool with a walk model; `price` is the start price (nullopt: the walk's mean).
  ScenarioBuilder& Pool(std::string_view type, std::string_view zone, int64_t capacity,
                        std::optional<double> price, const WalkModel& model);

  // Timed actions ([[action]]); `at` is an offset ("90m") or an RFC 3339 time; pool is
  // "<type>@<zone>".
  ScenarioBuilder& SetPrice(std::string_view at, std::string_view pool, double price);
  ScenarioBuilder& SetCapacity(std::string_view at, std::string_view pool, int64_t capacity);

  // Any array-of-tables entry, e.g. Entry("alibaba.instance", {{"zone", "cn-hangzhou-b"}, ...}).
  ScenarioBuilder& Entry(std::string_view array, const TomlTable& keys);

  // The scenario as TOML text.
  std::string Text() const;
  // LoadScenarioText(Text(), source_name, options).
  Result<std::unique_ptr<World>> Load(std::string_view source_name = "builder.toml",
                                      const ScenarioOptions& options = {}) const;

 private:
  TomlTable top_;     // seed, start, account_id
  std::string body_;  // the tables, in call order
};

}  // namespace lastcall::mock
