// JournalSink: log records as structured journal entries.
//
// Under systemd, stderr is a stream into journald and loses structure; sending each record as
// a datagram in journald's native protocol (agent/unix_datagram.h says why not libsystemd) keeps
// MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the record's fields
// (notice_id -> NOTICE_ID=, hook -> HOOK=, phase -> PHASE=) so operators can filter with
// `journalctl NOTICE_ID=...`. The sink is chosen only when JOURNAL_STREAM names the very
// stream stderr is connected to (the documented test), otherwise stderr with <N> prefixes.
//
// Thread-safety: Write() may be called from any thread (each record is one datagram).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/log.h"

namespace lastcall {

inline constexpr std::string_view kJournalSocket = "/run/systemd/journal/socket";

// Records go to the journal's socket at `socket_path`; a record the journal does not take
// (journald restarting) goes to stderr instead, so no line is lost.
std::unique_ptr<LogSink> MakeJournalSink(std::string identifier,
                                         std::string socket_path = std::string(kJournalSocket));

// True when `journal_stream` ("DEV:INODE", from $JOURNAL_STREAM) matches fd's device and inode.
bool JournalStreamMatches(const char* journal_stream, int fd);

// The journal when stderr is connected to it, else the stderr sink.
std::unique_ptr<LogSink> MakeDefaultSink(std::string identifier);

// "notice_id" -> "NOTICE_ID"; characters outside [A-Z0-9_] become '_', a leading '_' or digit
// gets an "F" prefix (journald reserves '_' for trusted fields). Empty stays empty.
std::string JournalFieldName(std::string_view key);

// The native protocol's datagram for `entries` ("KEY=value" each): "KEY=value\n", or, for a
// value containing a newline, "KEY\n" + its length as 64-bit little-endian + value + "\n".
std::string SerializeJournalEntry(const std::vector<std::string>& entries);

// The "KEY=value" entries one record becomes, in order: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
// then the fields.
std::vector<std::string> JournalEntry(std::string_view identifier, LogPriority priority,
                                      std::string_view message, const LogFields& fields);

}  // namespace lastcall
