// RetryPolicy: how long to wait before the next attempt after failures; FailureEpisode: the
// "log once" rule for a failing dependency.
//
// One small value decides every backoff (as guest-agent does): the delay grows from `initial`
// by `multiplier` per consecutive failure up to `max`, and is shortened by up to `jitter` (a
// fraction) using an injected random source so tests are exact. Jitter only ever shortens a
// wait: the configured interval stays the longest gap between two polls, so it bounds how late a
// notice can be seen, and a fleet of agents still spreads its requests. A poll error is logged once
// when it starts, with its reason, and once when it ends, never on every retry: a metadata outage
// of an hour would otherwise drown the journal.
//
// Thread-safety: RetryPolicy is a plain value. FailureEpisode is not synchronised; it belongs to
// the loop that retries.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"

namespace lastcall {

struct RetryPolicy {
  Duration initial{1000};
  Duration max{30000};
  double multiplier = 2.0;
  double jitter = 0.0;  // 0..1, fraction of the delay

  // `failures` is the number of consecutive failures so far (>= 1). `unit_random` returns a
  // value in [0, 1); the jittered delay is delay * (1 - jitter * r), so it lies in
  // [delay * (1 - jitter), delay], and is at least 1ms.
  Duration Delay(int failures, const std::function<double()>& unit_random) const;
};

class FailureEpisode {
 public:
  // Records a failure. Returns true when this failure starts an episode (log it).
  bool Fail(MonoTime now, const std::string& reason);
  // Records a success. When it ends an episode, returns a description of the episode for the
  // recovery line ("after 7 failures in 14s; first error: ...").
  std::optional<std::string> Succeed(MonoTime now);

  bool failing() const { return failures_ > 0; }
  int failures() const { return failures_; }
  const std::string& first_reason() const { return first_reason_; }

 private:
  int failures_ = 0;
  MonoTime since_{};
  std::string first_reason_;
};

}  // namespace lastcall
