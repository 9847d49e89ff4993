// EffectiveClock: the wall time the deadline arithmetic uses.
//
// Normally the local clock. When the metadata server's Date header disagrees with it by more
// than a threshold (a wrong RTC, a stepped clock, or mockmeta's virtual clock), "now" becomes
// the server's time plus the monotonic time elapsed since that answer, because the deadline in
// a notice is in the server's time. The switch is logged once when skew starts and once when
// it ends. Monotonic() is always the local monotonic clock.
//
// Thread-safety: safe from any thread (hook threads read Now() while the poller observes).
#pragma once

#include <mutex>
#include <optional>

#include "common/clock.h"

namespace lastcall {

class EffectiveClock final : public Clock {
 public:
  EffectiveClock(const Clock& local, Duration threshold);

  // Feeds the Date of the latest good answer (none: keep the previous estimate).
  void Observe(std::optional<WallTime> server_date);
  void SetThreshold(Duration threshold);

  WallTime Now() const override;
  MonoTime Monotonic() const override { return local_.Monotonic(); }
  // Waits are on monotonic time, which is the local clock's.
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override {
    return local_.WaitUntil(lock, cv, deadline, pred);
  }

  // server - local, when the server's time is in use.
  std::optional<Duration> skew() const;

 private:
  const Clock& local_;
  mutable std::mutex mu_;
  Duration threshold_;
  bool skewed_ = false;
  WallTime server_at_{};  // server's Date at the last observation
  MonoTime mono_at_{};    // local monotonic time of that observation
  Duration skew_{0};
};

}  // namespace lastcall
