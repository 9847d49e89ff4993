// Logging for the agent: one call, many sinks.
//
// Every module logs through Log(); the daemon picks the sink once at start: the journal with
// structured fields when stderr is connected to journald (JOURNAL_STREAM), otherwise stderr with
// sd-daemon priority prefixes ("<4>poll failed ..."), which journald and systemd also understand.
// Fields carry the things operators filter on: NOTICE_ID, HOOK, PHASE, PROVIDER.
//
// Thread-safety: Log() may be called from any thread; sinks serialise their own output.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall {

// syslog priorities (sd-daemon.h numbering).
enum class LogPriority { kErr = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

using LogFields = std::vector<std::pair<std::string, std::string>>;

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogPriority priority, std::string_view message, const LogFields& fields) = 0;
};

// "<6>message key=value ..." on a FILE*, one write per line.
std::unique_ptr<LogSink> MakeStderrSink();

// Replaces the process-wide sink and level; returns the previous sink.
std::unique_ptr<LogSink> SetLogSink(std::unique_ptr<LogSink> sink);
void SetLogLevel(LogPriority max_priority);
bool ParseLogLevel(std::string_view name, LogPriority* out);

void Log(LogPriority priority, std::string_view message, const LogFields& fields = {});

}  // namespace lastcall
