// JournalSink: log records as structured journal entries.
//
// Under systemd, stderr is a stream into journald and loses structure; sending each record with
// libsystemd's sd_journal_sendv(3) keeps MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the record's
// fields (notice_id -> NOTICE_ID=, hook -> HOOK=, phase -> PHASE=) so operators can filter with
// `journalctl NOTICE_ID=...`. The sink is chosen only when JOURNAL_STREAM names the very stream
// stderr is connected to (the documented test), otherwise stderr with <N> prefixes.
//
// Thread-safety: Write() may be called from any thread (each record is one sd_journal_sendv).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/log.h"

namespace lastcall {

// Records go to the journal (/run/systemd/journal/socket, libsystemd's choice); a record the
// journal does not take (journald restarting) goes to stderr instead, so no line is lost.
std::unique_ptr<LogSink> MakeJournalSink(std::string identifier);

// True when `journal_stream` ("DEV:INODE", from $JOURNAL_STREAM) matches fd's device and inode.
bool JournalStreamMatches(const char* journal_stream, int fd);

// The journal when stderr is connected to it, else the stderr sink.
std::unique_ptr<LogSink> MakeDefaultSink(std::string identifier);

// "notice_id" -> "NOTICE_ID"; characters outside [A-Z0-9_] become '_', a leading '_' or digit
// gets an "F" prefix (journald reserves '_' for trusted fields). Empty stays empty.
std::string JournalFieldName(std::string_view key);

// The "KEY=value" entries one record becomes, in order: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
// then the fields; what the sink hands to sd_journal_sendv (which encodes values with newlines).
std::vector<std::string> JournalEntry(std::string_view identifier, LogPriority priority,
                                      std::string_view message, const LogFields& fields);

}  // namespace lastcall
