#include "agent/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common/escape.h"

namespace lastcall {
namespace {

class StderrSink final : public LogSink {
 public:
  void Write(LogPriority priority, std::string_view message, const LogFields& fields) override {
    std::string line = FormatStderrLine(priority, message, fields);
    std::lock_guard lock(mu_);
    // One write(2) per line so lines from several threads never interleave.
    size_t off = 0;
    while (off < line.size()) {
      ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }

 private:
  std::mutex mu_;
};

std::mutex g_sink_mu;
std::unique_ptr<LogSink> g_sink;
std::atomic<int> g_level{static_cast<int>(LogPriority::kInfo)};

}  // namespace

std::string FormatStderrLine(LogPriority priority, std::string_view message,
                             const LogFields& fields) {
  std::string line = "<" + std::to_string(static_cast<int>(priority)) + ">";
  line += EscapeControl(message);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += EscapeControl(k);
    line += '=';
    line += EscapeControl(v);
  }
  if (line.size() > kMaxLogLine) {
    // Cut on a character boundary: back off over UTF-8 continuation bytes.
    size_t cut = kMaxLogLine;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;
    line.resize(cut);
    line += "... (line cut)";
  }
  line += '\n';
  return line;
}

std::unique_ptr<LogSink> MakeStderrSink() { return std::make_unique<StderrSink>(); }

std::unique_ptr<LogSink> SetLogSink(std::unique_ptr<LogSink> sink) {
  std::lock_guard lock(g_sink_mu);
  std::swap(g_sink, sink);
  return sink;
}

void SetLogLevel(LogPriority max_priority) { g_level = static_cast<int>(max_priority); }

std::string_view LogPriorityName(LogPriority priority) {
  return NameOf(kLogPriorityNames, priority);
}

std::optional<LogPriority> ParseLogLevel(std::string_view name) {
  if (name == "error") return LogPriority::kErr;  // syslog's other spelling
  return ValueOf(kLogPriorityNames, name);
}

void Log(LogPriority priority, std::string_view message, const LogFields& fields) {
  if (static_cast<int>(priority) > g_level.load()) return;
  std::lock_guard lock(g_sink_mu);
  if (!g_sink) g_sink = MakeStderrSink();
  g_sink->Write(priority, message, fields);
}

}  // namespace lastcall
