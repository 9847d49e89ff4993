// VirtualClock: maps the host's monotonic clock to the simulation's virtual wall time.
//
// Modes: real time (speed 1), accelerated (speed N) and manual (stands still; only Advance/SetTo
// move it). The mapping is re-anchored at every change, so virtual time never jumps backwards
// and a speed change takes effect from "now". The server reads Now() and calls
// Market::AdvanceTo(Now()) before serving; the Market itself never reads any clock.
// Advance/SetTo work in every mode (the control API's "advance" is useful at speed N too).
//
// Thread-safety: not thread-safe; the server serialises access together with the Market.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace lastcall::mock {

enum class ClockMode { kRealtime, kAccelerated, kManual };
std::string_view ClockModeName(ClockMode mode);  // "realtime", "speed", "manual"

// Virtual times are nanoseconds in 64 bits (WallTime), which hold 1677-09-21..2262-04-11. Times
// are kept inside whole years of that range; a text time outside it is refused instead of
// wrapping around (the year 2610 would otherwise land in 2026).
inline constexpr int kFirstVirtualYear = 1678;
inline constexpr int kLastVirtualYear = 2261;
WallTime LatestVirtualTime();  // 2261-12-31T23:59:59Z
// ParseRfc3339, with the year checked against kFirstVirtualYear..kLastVirtualYear first.
Result<WallTime> ParseVirtualTime(std::string_view s);

// The CLI/config spelling: "realtime", "speed=N" (N in [1e-3, 1e6]), "manual".
struct ClockSpec {
  ClockMode mode = ClockMode::kRealtime;
  double speed = 1.0;  // 0 in manual mode
};
Result<ClockSpec> ParseClockSpec(std::string_view s);

class VirtualClock {
 public:
  static constexpr double kMaxSpeed = 1e6;
  // Slower than this is refused: 5e-324 is "greater than 0" but stands still in every sum.
  static constexpr double kMinSpeed = 1e-3;

  VirtualClock(const Clock& host, WallTime virtual_start, ClockSpec spec = {});

  WallTime Now() const;
  ClockMode mode() const { return mode_; }
  double speed() const { return speed_; }

  // speed 1 is real time, >1 accelerated; must be in [kMinSpeed, kMaxSpeed].
  Status SetSpeed(double speed);
  void SetManual();
  // Moves virtual time forward by d (d >= 0), never past LatestVirtualTime().
  Status Advance(Duration d);
  // Moves virtual time forward to t (Now() <= t <= LatestVirtualTime()).
  Status SetTo(WallTime t);

 private:
  void Reanchor(WallTime virtual_now);

  const Clock& host_;
  MonoTime anchor_mono_;
  WallTime anchor_virtual_;
  ClockMode mode_ = ClockMode::kRealtime;
  double speed_ = 1.0;
};

}  // namespace lastcall::mock
