// ConfigLoader: lastcalld.toml -> Config, strictly.
//
// Every error names the place: "lastcalld.toml:12:3: poll.interval must be at least 100ms,
// got \"50ms\"". Unknown keys are errors with a "did you mean ...?" suggestion, because a typo
// in a key silently leaves the default in force, which is the worst outcome for a safety
// daemon. Wrong types name the expected type. A Config is returned only when the whole file is
// valid, so a reload never half-applies.
//
// Thread-safety: pure functions over their arguments; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "agent/base/config.h"
#include "common/status.h"

namespace lastcall {

inline constexpr std::string_view kDefaultConfigPath = "/etc/lastcall/lastcalld.toml";

// Reads and validates the file. A missing file is an error (kNotFound).
Result<Config> LoadConfig(const std::string& path);

// As LoadConfig, but a missing file means the defaults when `must_exist` is false (the
// default path is optional; an explicit --config is not).
Result<Config> LoadConfigFile(const std::string& path, bool must_exist);

// Parses TOML text; `path` is used in messages and stored in Config::path.
Result<Config> ParseConfig(std::string_view text, const std::string& path);

// The effective config rendered as TOML that ParseConfig accepts (every key, hooks included).
// Used by `lastcalld --check-config --verbose` and to compare configs in tests.
std::string FormatConfig(const Config& config);

// Levenshtein distance; exposed for the suggestion tests.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace lastcall
