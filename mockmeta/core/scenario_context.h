// ScenarioContext: the scenario loader's toolkit, shared by the base loader (scenario.cc) and the
// flavor loaders (scenario_alibaba.cc, scenario_aws.cc). Internal to lastcall_mock_core: it
// exposes toml++ types, so only this library's .cc files include it.
//
// Every getter is strict and returns an error that names "file:line:column: path.key: what is
// wrong", where `path` is the table's path the caller passes ("pool[2]", "aws.spot_request[0]").
// A missing required key points at the table; a bad value points at the value.
//
// Thread-safety: single-threaded, lives for one load.
#pragma once

// toml++ 3.3 asserts on "[" followed by a newline or NUL although the code after the assertion
// reports that input as a clean parse error; its assertions are compiled out here as in the
// agent's config loader (agent/runtime/config_loader.cc says more, and names the upstream case).
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_cast<void>(0)
#endif
#include <toml++/toml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/core/world.h"

namespace lastcall::mock {

class ScenarioContext {
 public:
  ScenarioContext(std::string source, World& world) : source_(std::move(source)), world_(world) {}

  Market& market() { return world_; }
  // The flavors' loaders reach their flavor here (and capture it in their timed actions: the
  // World owns both the flavors and the Market holding the actions).
  World& world() { return world_; }
  const std::string& source() const { return source_; }

  // "file:line:column"
  std::string Where(const toml::node& node) const { return Where(node.source()); }
  std::string Where(const toml::source_region& where) const;
  // InvalidArgument("file:line:column: path.key: message"); key may be empty.
  Status Error(const toml::node& node, std::string_view path, std::string_view key,
               std::string_view message) const {
    return Error(node.source(), path, key, message);
  }
  Status Error(const toml::source_region& where, std::string_view path, std::string_view key,
               std::string_view message) const;

  // Refuses any key of `table` not in `allowed`; the error points at the key.
  Status CheckKeys(const toml::table& table, std::string_view path,
                   std::initializer_list<std::string_view> allowed) const;

  // Required getters: error if missing or of the wrong type.
  Result<std::string> String(const toml::table& t, std::string_view path,
                             std::string_view key) const;
  Result<double> Number(const toml::table& t, std::string_view path,
                        std::string_view key) const;  // integer or float
  Result<int64_t> Integer(const toml::table& t, std::string_view path, std::string_view key) const;
  Result<bool> Bool(const toml::table& t, std::string_view path, std::string_view key) const;
  // "90s", "5m", "1h30m" (common/time_format.h ParseDuration).
  Result<Duration> DurationValue(const toml::table& t, std::string_view path,
                                 std::string_view key) const;
  // A virtual time: an offset from the scenario start ("90m") or RFC 3339 ("2026-04-07T01:00:00Z");
  // must not be before the start.
  Result<WallTime> Time(const toml::table& t, std::string_view path, std::string_view key) const;
  // An array of tables (e.g. [[aws.instance]]); error if `key` is present but is not one.
  Result<const toml::array*> TableArray(const toml::table& t, std::string_view path,
                                        std::string_view key) const;

  bool Has(const toml::table& t, std::string_view key) const { return t.contains(key); }

 private:
  const toml::node& NodeOr(const toml::table& t, std::string_view key) const;

  std::string source_;
  World& world_;
};

// Reads the InstanceSettings keys (kInstanceSettingsKeys) of an instance table into `out`,
// checked with CheckInstanceSettings; absent keys keep their defaults. (scenario_settings.cc)
Status ReadInstanceSettings(const toml::table& t, const std::string& path, ScenarioContext& ctx,
                            InstanceSettings* out);

// Flavor section loaders, called after the catalog, pools and actions are loaded, with the
// whole [alibaba] / [aws] table. Each is defined in its flavor's file and owned by its engineer.
Status LoadAlibabaScenario(const toml::table& section,
                           ScenarioContext& ctx);                          // scenario_alibaba.cc
Status LoadAwsScenario(const toml::table& section, ScenarioContext& ctx);  // scenario_aws.cc

}  // namespace lastcall::mock
