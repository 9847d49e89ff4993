#include "mockmeta/core/virtual_clock.h"

#include <charconv>
#include <cmath>
#include <string>

namespace lastcall::mock {

std::string_view ClockModeName(ClockMode mode) {
  switch (mode) {
    case ClockMode::kRealtime:
      return "realtime";
    case ClockMode::kAccelerated:
      return "speed";
    case ClockMode::kManual:
      return "manual";
  }
  return "unknown";
}

Result<ClockSpec> ParseClockSpec(std::string_view s) {
  if (s == "realtime") return ClockSpec{ClockMode::kRealtime, 1.0};
  if (s == "manual") return ClockSpec{ClockMode::kManual, 0.0};
  constexpr std::string_view kPrefix = "speed=";
  if (s.substr(0, kPrefix.size()) == kPrefix) {
    std::string num(s.substr(kPrefix.size()));
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (!num.empty() && end == num.c_str() + num.size() && std::isfinite(v) && v > 0 &&
        v <= VirtualClock::kMaxSpeed) {
      return ClockSpec{v == 1.0 ? ClockMode::kRealtime : ClockMode::kAccelerated, v};
    }
    return InvalidArgument("clock: speed in \"" + std::string(s) +
                           "\" must be a number in (0, 1e6]");
  }
  return InvalidArgument("clock: \"" + std::string(s) +
                         "\" is not one of realtime, speed=N, manual");
}

VirtualClock::VirtualClock(const Clock& host, WallTime virtual_start, ClockSpec spec)
    : host_(host), anchor_mono_(host.Monotonic()), anchor_virtual_(virtual_start) {
  if (spec.mode == ClockMode::kManual) {
    SetManual();
  } else if (!SetSpeed(spec.speed).ok()) {
    SetManual();  // unreachable with a parsed spec; stand still rather than race
  }
}

WallTime VirtualClock::Now() const {
  if (mode_ == ClockMode::kManual) return anchor_virtual_;
  const auto elapsed = host_.Monotonic() - anchor_mono_;
  if (speed_ == 1.0) {
    return anchor_virtual_ + std::chrono::duration_cast<WallTime::duration>(elapsed);
  }
  const double ns = std::chrono::duration<double, std::nano>(elapsed).count() * speed_;
  return anchor_virtual_ + std::chrono::duration_cast<WallTime::duration>(
                               std::chrono::nanoseconds(static_cast<long long>(ns)));
}

void VirtualClock::Reanchor(WallTime virtual_now) {
  anchor_mono_ = host_.Monotonic();
  anchor_virtual_ = virtual_now;
}

Status VirtualClock::SetSpeed(double speed) {
  if (!std::isfinite(speed) || speed <= 0 || speed > kMaxSpeed) {
    return InvalidArgument("clock: speed " + std::to_string(speed) + " must be in (0, 1e6]");
  }
  Reanchor(Now());
  speed_ = speed;
  mode_ = speed == 1.0 ? ClockMode::kRealtime : ClockMode::kAccelerated;
  return Status::Ok();
}

void VirtualClock::SetManual() {
  Reanchor(Now());
  mode_ = ClockMode::kManual;
  speed_ = 0.0;
}

Status VirtualClock::Advance(Duration d) {
  if (d.count() < 0) return InvalidArgument("clock: cannot advance by a negative duration");
  Reanchor(Now() + d);
  return Status::Ok();
}

Status VirtualClock::SetTo(WallTime t) {
  const WallTime now = Now();
  if (t < now) return InvalidArgument("clock: cannot move virtual time backwards");
  Reanchor(t);
  return Status::Ok();
}

}  // namespace lastcall::mock
