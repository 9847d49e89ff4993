#include "agent/systemd/journal_sink.h"

#include <sys/stat.h>
#include <sys/uio.h>
// This file's name and line would be in every entry (CODE_FILE=, CODE_LINE=): they say nothing.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdlib>

namespace lastcall {
namespace {

class JournalSink final : public LogSink {
 public:
  explicit JournalSink(std::string identifier) : identifier_(std::move(identifier)) {}

  void Write(LogPriority priority, std::string_view message, const LogFields& fields) override {
    std::vector<std::string> entry = JournalEntry(identifier_, priority, message, fields);
    std::vector<iovec> iov;
    iov.reserve(entry.size());
    for (std::string& e : entry) iov.push_back(iovec{e.data(), e.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
      // The journal does not take it (journald restarting): do not lose the line. (Without a
      // journal socket at all libsystemd drops the entry and reports success, but then
      // JOURNAL_STREAM would not have chosen this sink.)
      fallback_->Write(priority, message, fields);
    }
  }

 private:
  std::string identifier_;
  std::unique_ptr<LogSink> fallback_ = MakeStderrSink();
};

}  // namespace

std::string JournalFieldName(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += c;
    } else {
      out += '_';
    }
  }
  if (!out.empty() && (out[0] == '_' || (out[0] >= '0' && out[0] <= '9'))) out = "F" + out;
  return out;
}

std::vector<std::string> JournalEntry(std::string_view identifier, LogPriority priority,
                                      std::string_view message, const LogFields& fields) {
  std::vector<std::string> out;
  out.push_back("MESSAGE=" + std::string(message));
  out.push_back("PRIORITY=" + std::to_string(static_cast<int>(priority)));
  out.push_back("SYSLOG_IDENTIFIER=" + std::string(identifier));
  for (const auto& [k, v] : fields) {
    std::string name = JournalFieldName(k);
    // Fields may not shadow the three above; a caller's "message" field is kept apart.
    if (name.empty() || name == "MESSAGE" || name == "PRIORITY" || name == "SYSLOG_IDENTIFIER") {
      name = "FIELD_" + name;
    }
    out.push_back(name + "=" + v);
  }
  return out;
}

bool JournalStreamMatches(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  char* end = nullptr;
  unsigned long long dev = std::strtoull(journal_stream, &end, 10);
  if (end == journal_stream || *end != ':') return false;
  const char* ino_start = end + 1;
  unsigned long long ino = std::strtoull(ino_start, &end, 10);
  if (end == ino_start || *end != '\0') return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::unique_ptr<LogSink> MakeJournalSink(std::string identifier) {
  return std::make_unique<JournalSink>(std::move(identifier));
}

std::unique_ptr<LogSink> MakeDefaultSink(std::string identifier) {
  if (JournalStreamMatches(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) {
    return MakeJournalSink(std::move(identifier));
  }
  return MakeStderrSink();
}

}  // namespace lastcall
