#include "agent/base/config.h"

namespace lastcall {

std::string_view HookPhaseName(HookPhase phase) { return NameOf(kHookPhaseNames, phase); }

std::optional<HookPhase> ParseHookPhase(std::string_view name) {
  return ValueOf(kHookPhaseNames, name);
}

}  // namespace lastcall
