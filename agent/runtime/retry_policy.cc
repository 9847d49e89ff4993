#include "agent/runtime/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "common/time_format.h"

namespace lastcall {

Duration RetryPolicy::Delay(int failures, const std::function<double()>& unit_random) const {
  double base = static_cast<double>(initial.count());
  double cap = static_cast<double>(max.count());
  // Stop multiplying once the cap is reached so huge failure counts cannot overflow.
  for (int i = 1; i < failures && base < cap; ++i) base *= multiplier;
  base = std::min(base, cap);
  double j = std::clamp(jitter, 0.0, 1.0);
  if (j > 0 && unit_random) {
    double r = std::clamp(unit_random(), 0.0, 1.0);
    base *= 1.0 - j * r;
  }
  return Duration(std::max<long long>(1, std::llround(base)));
}

bool FailureEpisode::Fail(MonoTime now, const std::string& reason) {
  if (failures_++ > 0) return false;
  since_ = now;
  first_reason_ = reason;
  return true;
}

std::optional<std::string> FailureEpisode::Succeed(MonoTime now) {
  if (failures_ == 0) return std::nullopt;
  std::string out = "after " + std::to_string(failures_) +
                    (failures_ == 1 ? " failure" : " failures") + " in " +
                    FormatDuration(std::chrono::duration_cast<Duration>(now - since_)) +
                    "; first error: " + first_reason_;
  failures_ = 0;
  first_reason_.clear();
  return out;
}

}  // namespace lastcall
