#include "common/escape.h"

namespace lastcall {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

void AppendHex(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

// Appends s[0..limit) escaped; returns the number of input bytes consumed (a multi-byte
// sequence is never split, so this may stop a little before `limit`).
size_t AppendEscaped(std::string& out, std::string_view s, size_t limit, bool quoting) {
  size_t i = 0;
  while (i < s.size() && i < limit) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        AppendHex(out, c);
        ++i;
        continue;
      }
      // C1 controls (U+0080..U+009F, NEL among them) are line breaks to some terminals.
      if (c == 0xc2 && static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
        if (i + 2 > limit) break;
        AppendHex(out, c);
        AppendHex(out, static_cast<unsigned char>(s[i + 1]));
        i += 2;
        continue;
      }
      if (i + n > limit) break;
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += quoting ? "\\\\" : "\\";
        break;
      case '"':
        out += quoting ? "\\\"" : "\"";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          AppendHex(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return i;
}

}  // namespace

std::string Quote(std::string_view s, size_t limit) {
  std::string out = "\"";
  size_t used = AppendEscaped(out, s, limit, /*quoting=*/true);
  out += '"';
  if (used < s.size()) {
    out.insert(out.size() - 1, "...");
    out += " (" + std::to_string(s.size()) + " bytes)";
  }
  return out;
}

std::string EscapeControl(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(out, s, s.size(), /*quoting=*/false);
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  bool in_bad = false;
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      if (!in_bad) out += "\xef\xbf\xbd";  // U+FFFD for the whole invalid run
      in_bad = true;
      ++i;
      continue;
    }
    in_bad = false;
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace lastcall
