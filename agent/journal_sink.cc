#include "agent/journal_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "agent/unix_datagram.h"

namespace lastcall {
namespace {

class JournalSink final : public LogSink {
 public:
  JournalSink(std::string identifier, std::string socket_path)
      : identifier_(std::move(identifier)), socket_path_(std::move(socket_path)) {}

  void Write(LogPriority priority, std::string_view message, const LogFields& fields) override {
    std::string datagram =
        SerializeJournalEntry(JournalEntry(identifier_, priority, message, fields));
    if (!SendUnixDatagram(socket_path_, datagram, /*fd_fallback=*/true).ok()) {
      // The journal went away (journald restarting): do not lose the line.
      fallback_->Write(priority, message, fields);
    }
  }

 private:
  std::string identifier_;
  std::string socket_path_;
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

std::string SerializeJournalEntry(const std::vector<std::string>& entries) {
  std::string out;
  for (const std::string& e : entries) {
    size_t eq = e.find('=');
    std::string_view value =
        eq == std::string::npos ? std::string_view() : std::string_view(e).substr(eq + 1);
    if (value.find('\n') == std::string_view::npos) {
      out += e;
    } else {
      // Binary-safe form: the name, a newline, the length, then the raw value.
      out.append(e, 0, eq);
      out += '\n';
      uint64_t n = value.size();
      for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
      out += value;
    }
    out += '\n';
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

std::unique_ptr<LogSink> MakeJournalSink(std::string identifier, std::string socket_path) {
  return std::make_unique<JournalSink>(std::move(identifier), std::move(socket_path));
}

std::unique_ptr<LogSink> MakeDefaultSink(std::string identifier) {
  if (JournalStreamMatches(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) {
    return MakeJournalSink(std::move(identifier));
  }
  return MakeStderrSink();
}

}  // namespace lastcall
