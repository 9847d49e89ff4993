#include "agent/base/config.h"

#include <array>
#include <utility>

namespace lastcall {
namespace {
constexpr std::array<std::pair<HookPhase, std::string_view>, 4> kPhaseNames = {{
    {HookPhase::kCheckpoint, "checkpoint"},
    {HookPhase::kDrain, "drain"},
    {HookPhase::kNotify, "notify"},
    {HookPhase::kResume, "resume"},
}};
}  // namespace

std::string_view HookPhaseName(HookPhase phase) {
  for (const auto& [p, name] : kPhaseNames) {
    if (p == phase) return name;
  }
  return "unknown";
}

std::optional<HookPhase> ParseHookPhase(std::string_view name) {
  for (const auto& [p, n] : kPhaseNames) {
    if (n == name) return p;
  }
  return std::nullopt;
}

}  // namespace lastcall
