// Notifier: the service manager's side channel (sd_notify), behind an interface.
//
// The daemon reports READY=1, STATUS=..., WATCHDOG=1, RELOADING=1 and STOPPING=1 through a
// Notifier so its loop can be tested with a recording fake; SdNotifier is the real one:
// libsystemd's sd_notify(3) and sd_watchdog_enabled(3) (a datagram to $NOTIFY_SOCKET, nothing
// without it). The message builders are pure so their exact text is tested once.
//
// Thread-safety: SdNotifier is stateless and safe from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace lastcall {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // One datagram, newline-separated assignments ("READY=1\nSTATUS=watching aws").
  virtual void Notify(std::string_view state) = 0;
  // How often to send WATCHDOG=1: half of WATCHDOG_USEC when the watchdog is on for us.
  virtual std::optional<Duration> WatchdogInterval() const = 0;
};

class SdNotifier final : public Notifier {
 public:
  void Notify(std::string_view state) override;
  std::optional<Duration> WatchdogInterval() const override;
};

// "RELOADING=1\nMONOTONIC_USEC=<usec>" with the CLOCK_MONOTONIC time of the reload start, as
// Type=notify-reload requires. `mono` must come from a SystemClock (steady_clock is
// CLOCK_MONOTONIC on Linux).
std::string ReloadingMessage(MonoTime mono);

// A STATUS= value is one line: newlines would start new assignments.
std::string StatusMessage(std::string_view text);

}  // namespace lastcall
