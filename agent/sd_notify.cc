#include "agent/sd_notify.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "agent/unix_datagram.h"

namespace lastcall {

namespace {

// A decimal environment variable, or nullopt when unset or not a whole number.
std::optional<uint64_t> EnvNumber(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  uint64_t out = 0;
  const char* end = v + std::strlen(v);
  auto [ptr, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

}  // namespace

void SdNotifier::Notify(std::string_view state) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return;  // not started by a service manager
  // Failures are not actionable: without a manager listening there is no one to tell.
  (void)SendUnixDatagram(socket, state);
}

std::optional<Duration> SdNotifier::WatchdogInterval() const {
  std::optional<uint64_t> usec = EnvNumber("WATCHDOG_USEC");
  if (!usec || *usec == 0) return std::nullopt;
  // WATCHDOG_PID, when set, names the process the watchdog is meant for (an inherited
  // environment must not make a child ping on the service's behalf).
  std::optional<uint64_t> pid = EnvNumber("WATCHDOG_PID");
  if (std::getenv("WATCHDOG_PID") != nullptr &&
      (!pid || *pid != static_cast<uint64_t>(::getpid()))) {
    return std::nullopt;
  }
  auto half = std::chrono::duration_cast<Duration>(std::chrono::microseconds(*usec / 2));
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
