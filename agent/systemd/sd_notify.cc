#include "agent/systemd/sd_notify.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace lastcall {

void SdNotifier::Notify(std::string_view state) {
  // Without $NOTIFY_SOCKET sd_notify does nothing. Failures are not actionable: without a
  // manager listening there is no one to tell.
  (void)sd_notify(/*unset_environment=*/0, std::string(state).c_str());
}

std::optional<Duration> SdNotifier::WatchdogInterval() const {
  // sd_watchdog_enabled checks WATCHDOG_PID too: an inherited environment must not make a child
  // ping on the service's behalf. A malformed variable is an error (< 0): no watchdog.
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
  auto half = std::chrono::duration_cast<Duration>(std::chrono::microseconds(usec / 2));
  return std::max(half, Duration(1));
}

std::string ReloadingMessage(MonoTime mono) {
  auto usec =
      std::chrono::duration_cast<std::chrono::microseconds>(mono.time_since_epoch()).count();
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

std::string StatusMessage(std::string_view text) {
  std::string out = "STATUS=";
  for (char c : text) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

}  // namespace lastcall
