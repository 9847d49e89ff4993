#include "agent/sd_notify.h"

#include <systemd/sd-daemon.h>

#include <chrono>

namespace lastcall {

void SdNotifier::Notify(std::string_view state) {
  std::string s(state);
  // Failures are not actionable: without a manager listening there is no one to tell.
  (void)sd_notify(0, s.c_str());
}

std::optional<Duration> SdNotifier::WatchdogInterval() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
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
