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

// The CLI/config spelling: "realtime", "speed=N" (N > 0, N <= 1e6), "manual".
struct ClockSpec {
  ClockMode mode = ClockMode::kRealtime;
  double speed = 1.0;  // 0 in manual mode
};
Result<ClockSpec> ParseClockSpec(std::string_view s);

class VirtualClock {
 public:
  static constexpr double kMaxSpeed = 1e6;

  VirtualClock(const Clock& host, WallTime virtual_start, ClockSpec spec = {});

  WallTime Now() const;
  ClockMode mode() const { return mode_; }
  double speed() const { return speed_; }

  // speed 1 is real time, >1 accelerated; must be in (0, kMaxSpeed].
  Status SetSpeed(double speed);
  void SetManual();
  // Moves virtual time forward by d (d >= 0).
  Status Advance(Duration d);
  // Moves virtual time forward to t (t >= Now()).
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
