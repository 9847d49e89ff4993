// Internal to the Alibaba flavor (alibaba/*.cc only; not part of alibaba.h's API): the price,
// time and text helpers more than one of AlibabaFlavor's source files needs, kept here once
// instead of copied into each file.
//
// Thread-safety: constants and pure functions, safe from any thread.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace lastcall::mock::alibaba_internal {

// Without protection the price is 10% lower (Alibaba's example: 0.152 x 0.9).
inline constexpr double kNoProtectionFactor = 0.9;

inline int64_t PriceUnits(double price) { return std::llround(price * 10000.0); }

inline double Seconds(WallTime a, WallTime b) {
  return std::chrono::duration<double>(b - a).count();
}

inline std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace lastcall::mock::alibaba_internal
