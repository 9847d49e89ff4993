// EnumNames: the one way lastcall names its enums, for logs, metrics labels, JSON and the CLI.
//
// Each enum keeps a single table of {value, name} pairs, in the header beside the enum, so the
// name function, the parser and every "for each value" (metrics series declared at 0, tests
// that every value has a distinct name that parses back) read the same list. A value missing
// from its table names itself "unknown" and is caught by those tests.
//
//   inline constexpr EnumNames<HookPhase, 4> kHookPhaseNames = {{
//       {HookPhase::kCheckpoint, "checkpoint"}, ...}};
//   std::string_view HookPhaseName(HookPhase p) { return NameOf(kHookPhaseNames, p); }
//   std::optional<HookPhase> ParseHookPhase(std::string_view s) {
//     return ValueOf(kHookPhaseNames, s);
//   }
//
// Thread-safety: constant tables and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace lastcall {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

template <typename E, size_t N>
using EnumNames = std::array<EnumName<E>, N>;

// The name of `value`, or "unknown" when the table lacks it.
template <typename E, size_t N>
constexpr std::string_view NameOf(const EnumNames<E, N>& names, E value) {
  for (const EnumName<E>& e : names) {
    if (e.value == value) return e.name;
  }
  return "unknown";
}

// The value named exactly `name` (case-sensitive), or nullopt.
template <typename E, size_t N>
constexpr std::optional<E> ValueOf(const EnumNames<E, N>& names, std::string_view name) {
  for (const EnumName<E>& e : names) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

}  // namespace lastcall
