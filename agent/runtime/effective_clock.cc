#include "agent/runtime/effective_clock.h"

#include <chrono>

#include "agent/base/log.h"
#include "common/time_format.h"

namespace lastcall {

EffectiveClock::EffectiveClock(const Clock& local, Duration threshold)
    : local_(local), threshold_(threshold) {}

void EffectiveClock::SetThreshold(Duration threshold) {
  std::lock_guard lock(mu_);
  threshold_ = threshold;
}

void EffectiveClock::Observe(std::optional<WallTime> server_date) {
  if (!server_date) return;
  WallTime local = local_.Now();
  MonoTime mono = local_.Monotonic();
  auto diff = std::chrono::duration_cast<Duration>(*server_date - local);
  std::string message;
  {
    std::lock_guard lock(mu_);
    bool skewed = (diff > threshold_ || diff < -threshold_);
    if (skewed) {
      server_at_ = *server_date;
      mono_at_ = mono;
      skew_ = diff;
    }
    if (skewed != skewed_) {
      skewed_ = skewed;
      message = skewed ? "local clock is " + FormatDuration(diff < Duration(0) ? -diff : diff) +
                             (diff < Duration(0) ? " ahead of" : " behind") +
                             " the metadata server's; deadlines use the server's time"
                       : "local clock agrees with the metadata server again";
    }
  }
  // Logged outside the lock: the sink may be slow.
  if (!message.empty()) {
    Log(LogPriority::kWarning, message,
        {{"clock_skew_ms", std::to_string(diff.count())},
         {"server_date", FormatRfc3339(*server_date)}});
  }
}

WallTime EffectiveClock::Now() const {
  std::lock_guard lock(mu_);
  if (!skewed_) return local_.Now();
  return server_at_ + std::chrono::duration_cast<Duration>(local_.Monotonic() - mono_at_);
}

std::optional<Duration> EffectiveClock::skew() const {
  std::lock_guard lock(mu_);
  if (!skewed_) return std::nullopt;
  return skew_;
}

}  // namespace lastcall
