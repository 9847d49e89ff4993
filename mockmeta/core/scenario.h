// Scenario files: a TOML description of a simulated cloud, loaded into a fresh World (a Market
// with its flavors, world.h).
//
// The format (all keys documented in README.md and etc/scenarios/):
//   seed, start, account_id                       top level, optional
//   [[zone]], [[instance_type]], [[pool]]         the catalog; a pool has [pool.model]
//   [[action]]                                    timed actions (set_price, set_capacity,
//   set_model) [alibaba] ... / [aws] ...                     flavor sections, handed to the
//   flavors'
//                                                 loaders (scenario_alibaba.cc, scenario_aws.cc)
// Unknown keys are errors. Every error names file:line:column and the key path, e.g.
// "demo.toml:14:12: pool[1].capacity: must be a non-negative integer". A scenario either
// loads completely into a new World or not at all, so a running server keeps its old one.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mockmeta/core/world.h"

namespace lastcall::mock {

// What the caller may override over the file (mockmeta's --seed).
struct ScenarioOptions {
  std::optional<uint64_t> seed;  // replaces the file's `seed`
};

// The largest scenario, as a file or a control API upload.
inline constexpr size_t kMaxScenarioBody = 1024 * 1024;

// Reads only a regular file of at most kMaxScenarioBody bytes, opened non-blocking: a FIFO, a
// directory or a device is refused at once (kInvalidArgument naming the path), never waited on.
Result<std::unique_ptr<World>> LoadScenarioFile(const std::string& path,
                                                const ScenarioOptions& options = {});
// `source_name` is used in error locations (a file name, or "<control-api>").
Result<std::unique_ptr<World>> LoadScenarioText(std::string_view text, std::string_view source_name,
                                                const ScenarioOptions& options = {});

}  // namespace lastcall::mock
