// Escaping foreign text: the one place that decides how bytes from a socket or a file are shown.
//
// lastcall logs, dumps as JSON and names files after text it did not write (metadata answers,
// state records, config values). Such text may hold anything: bytes that are not UTF-8 (which
// nlohmann's strict dump aborts on), newlines and "<0>" that forge log lines, terminal escape
// sequences, megabytes of payload. Every foreign string goes through one of these before it
// reaches an operator:
//
//   Quote(s)          "\"i-0abc\\n<0>x\"..." for messages: quoted, escaped, cut at a bound
//   EscapeControl(s)  the same escaping without quotes or a bound: the log sinks' last line of
//                     defence, applied to every message and field value
//   ToValidUtf8(s)    invalid UTF-8 sequences replaced by U+FFFD: for values put into JSON
//
// Escaping is readable: \n \r \t (and \\ \" inside Quote) and \xHH for other control bytes and
// for bytes that are not part of valid UTF-8. Valid multi-byte UTF-8 passes through unchanged.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lastcall {

// How much of a foreign string a message shows by default: enough to recognise a payload, short
// enough that a hostile 64 KiB body does not become a 64 KiB log line.
inline constexpr size_t kQuoteLimit = 120;

// `s` in double quotes, escaped, at most `limit` input bytes shown; a longer string ends in
// "..." followed by its full length: "\"abc...\" (70000 bytes)".
std::string Quote(std::string_view s, size_t limit = kQuoteLimit);

// `s` with control bytes (0x00-0x1f, 0x7f) and invalid UTF-8 escaped; quotes and backslashes
// kept, so text that was already Quote()d is not escaped twice.
// The result holds only printable ASCII, spaces and valid UTF-8 sequences of printable text.
std::string EscapeControl(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s);

// `s` with each maximal invalid sequence replaced by U+FFFD; `s` itself when already valid.
std::string ToValidUtf8(std::string_view s);

}  // namespace lastcall
