// Logging for the agent: one call, many sinks.
//
// Every module logs through Log(); the daemon picks the sink once at start: the journal with
// structured fields when stderr is connected to journald (JOURNAL_STREAM), otherwise stderr with
// sd-daemon priority prefixes ("<4>poll failed ..."), which journald and systemd also understand.
// Fields carry the things operators filter on: NOTICE_ID, HOOK, PHASE, PROVIDER.
//
// Foreign text (metadata, file contents, config values) goes into a message through Quote()
// (common/escape.h), which quotes, escapes and bounds it. The sinks escape control bytes and
// invalid UTF-8 in every message and field value once more, so no caller can forge a line or a
// priority ("\n<0>...") by forgetting to.
//
// Thread-safety: Log() may be called from any thread; sinks serialise their own output.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/enum_names.h"

namespace lastcall {

// syslog priorities (sd-daemon.h numbering).
enum class LogPriority { kErr = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };
// The names of `log_level` in the config.
inline constexpr EnumNames<LogPriority, 5> kLogPriorityNames = {{
    {LogPriority::kErr, "err"},
    {LogPriority::kWarning, "warning"},
    {LogPriority::kNotice, "notice"},
    {LogPriority::kInfo, "info"},
    {LogPriority::kDebug, "debug"},
}};
std::string_view LogPriorityName(LogPriority priority);
// A name of kLogPriorityNames, or "error" for kErr.
std::optional<LogPriority> ParseLogLevel(std::string_view name);

using LogFields = std::vector<std::pair<std::string, std::string>>;

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogPriority priority, std::string_view message, const LogFields& fields) = 0;
};

// "<6>message key=value ..." on stderr, one write per line.
std::unique_ptr<LogSink> MakeStderrSink();

// The longest line the stderr sink writes (before its newline); the rest is cut.
inline constexpr size_t kMaxLogLine = 8192;

// The stderr sink's line: "<6>message key=value\n", control bytes and invalid UTF-8 in the
// message, keys and values escaped (common/escape.h EscapeControl), at most kMaxLogLine bytes
// before the newline. Exactly one '\n', at the end.
std::string FormatStderrLine(LogPriority priority, std::string_view message,
                             const LogFields& fields);

// Replaces the process-wide sink and level; returns the previous sink.
std::unique_ptr<LogSink> SetLogSink(std::unique_ptr<LogSink> sink);
void SetLogLevel(LogPriority max_priority);

void Log(LogPriority priority, std::string_view message, const LogFields& fields = {});

}  // namespace lastcall
