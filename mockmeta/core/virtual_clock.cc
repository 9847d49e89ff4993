#include "mockmeta/core/virtual_clock.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/time_format.h"

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

WallTime LatestVirtualTime() {
  using namespace std::chrono;
  return time_point_cast<WallTime::duration>(sys_days{year{kLastVirtualYear} / December / 31} +
                                             hours(23) + minutes(59) + seconds(59));
}

Result<WallTime> ParseVirtualTime(std::string_view s) {
  int year = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + std::min<size_t>(s.size(), 4), year);
  if (ec == std::errc() && end == s.data() + 4 &&
      (year < kFirstVirtualYear || year > kLastVirtualYear)) {
    return InvalidArgument("\"" + std::string(s) + "\": the year " + std::to_string(year) +
                           " is outside " + std::to_string(kFirstVirtualYear) + ".." +
                           std::to_string(kLastVirtualYear) + " (times are 64-bit nanoseconds)");
  }
  return ParseRfc3339(s);
}

Result<ClockSpec> ParseClockSpec(std::string_view s) {
  if (s == "realtime") return ClockSpec{ClockMode::kRealtime, 1.0};
  if (s == "manual") return ClockSpec{ClockMode::kManual, 0.0};
  constexpr std::string_view kPrefix = "speed=";
  if (s.substr(0, kPrefix.size()) == kPrefix) {
    std::string num(s.substr(kPrefix.size()));
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (!num.empty() && end == num.c_str() + num.size() && std::isfinite(v) &&
        v >= VirtualClock::kMinSpeed && v <= VirtualClock::kMaxSpeed) {
      return ClockSpec{v == 1.0 ? ClockMode::kRealtime : ClockMode::kAccelerated, v};
    }
    return InvalidArgument("clock: speed in \"" + std::string(s) +
                           "\" must be a number in [0.001, 1e6]");
  }
  return InvalidArgument("clock: \"" + std::string(s) +
                         "\" is not one of realtime, speed=N, manual");
}

VirtualClock::VirtualClock(const Clock& host, WallTime virtual_start, ClockSpec spec)
    : host_(host), anchor_mono_(host.Monotonic()), anchor_virtual_(virtual_start) {
  // A speed that does not set is unreachable with a parsed spec; stand still rather than race.
  if (spec.mode == ClockMode::kManual || !SetSpeed(spec.speed).ok()) SetManual();
}

WallTime VirtualClock::Now() const {
  if (mode_ == ClockMode::kManual) return anchor_virtual_;
  const auto elapsed = host_.Monotonic() - anchor_mono_;
  if (speed_ == 1.0) {
    return anchor_virtual_ + std::chrono::duration_cast<WallTime::duration>(elapsed);
  }
  // Months of a high speed would run past 2262: stop at the last representable second instead of
  // wrapping around (the double is clamped before it is converted).
  const double room =
      std::chrono::duration<double, std::nano>(LatestVirtualTime() - anchor_virtual_).count();
  const double ns = std::chrono::duration<double, std::nano>(elapsed).count() * speed_;
  if (ns >= room) return LatestVirtualTime();
  return anchor_virtual_ + std::chrono::duration_cast<WallTime::duration>(
                               std::chrono::nanoseconds(static_cast<long long>(ns)));
}

void VirtualClock::Reanchor(WallTime virtual_now) {
  anchor_mono_ = host_.Monotonic();
  anchor_virtual_ = virtual_now;
}

Status VirtualClock::SetSpeed(double speed) {
  if (!std::isfinite(speed) || speed < kMinSpeed || speed > kMaxSpeed) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", speed);
    return InvalidArgument(std::string("clock: speed ") + text + " must be in [0.001, 1e6]");
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
  const WallTime now = Now();
  // Compared in the duration's own unit: converting a long one to nanoseconds would overflow.
  if (d > std::chrono::floor<Duration>(LatestVirtualTime() - now)) {
    return InvalidArgument("clock: advancing by " + FormatDuration(d) + " from " +
                           FormatRfc3339(now) + " would pass " +
                           FormatRfc3339(LatestVirtualTime()) +
                           ", the last time 64-bit nanoseconds hold");
  }
  Reanchor(now + d);
  return Status::Ok();
}

Status VirtualClock::SetTo(WallTime t) {
  const WallTime now = Now();
  if (t < now) return InvalidArgument("clock: cannot move virtual time backwards");
  if (t > LatestVirtualTime()) {
    return InvalidArgument("clock: " + FormatRfc3339(t) + " is after " +
                           FormatRfc3339(LatestVirtualTime()) +
                           ", the last time 64-bit nanoseconds hold");
  }
  Reanchor(t);
  return Status::Ok();
}

}  // namespace lastcall::mock
