#include "common/toml_prevalidate.h"

#include <string>

namespace lastcall {

// The scan's state: where the byte at hand sits. Strings and comments may hold any UTF-8.
// A quote opens a string only where TOML lets one start, as toml++ reads it: at the start of a
// line (a key) or after '=', '[', '{', ',' or '.' (a value, an array element, a key in a
// header, an inline table or a dotted key), whitespace and comments between. Anywhere else it
// is a stray byte of a bare token (`4m"é"`), which toml++ walks character by character: the
// non-ASCII after it must be refused too (found by config_loader_fuzz).
Status PrevalidateToml(std::string_view text, std::string_view path) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral } in = In::kCode;
  bool string_may_start = true;  // in kCode: whether a quote here opens a string
  size_t line = 1, column = 1;
  auto err = [&](std::string_view what) {
    return InvalidArgument(std::string(path) + ":" + std::to_string(line) + ":" +
                           std::to_string(column) + ": " + std::string(what));
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\0') return err("a NUL byte is not allowed in a TOML file");
    auto starts = [&](std::string_view w) { return text.substr(i, w.size()) == w; };
    // Closes a multi-line string at its three quotes, and takes up to two more: """a""""
    // is the string a" (TOML 1.0 allows one or two quotes right before the delimiter).
    auto close_multiline = [&](char q) {
      in = In::kCode;
      i += 2, column += 2;
      for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == q; ++extra) {
        ++i, ++column;
      }
    };
    switch (in) {
      case In::kCode:
        if (u >= 0x80) {
          return err(
              "a non-ASCII character is only allowed inside a string or a comment "
              "(quote the key: \"k\" = ...)");
        }
        if (c == '#') {
          in = In::kComment;
        } else if ((c == '"' || c == '\'') && string_may_start) {
          if (starts("\"\"\""))
            in = In::kMlBasic, i += 2, column += 2;
          else if (starts("'''"))
            in = In::kMlLiteral, i += 2, column += 2;
          else
            in = c == '"' ? In::kBasic : In::kLiteral;
          string_may_start = false;  // what follows the string is not a string's start
        } else if (c == '\n') {
          string_may_start = true;
        } else if (c != ' ' && c != '\t' && c != '\r') {
          string_may_start = c == '=' || c == '[' || c == '{' || c == ',' || c == '.';
        }
        break;
      case In::kComment:
        if (c == '\n') in = In::kCode, string_may_start = true;
        break;
      case In::kBasic:
      case In::kMlBasic:
        if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
          ++i, ++column;  // an escaped character, a quote among them
        } else if (in == In::kBasic && (c == '"' || c == '\n')) {
          in = In::kCode;  // an unterminated string is toml++'s to report
        } else if (in == In::kMlBasic && starts("\"\"\"")) {
          close_multiline('"');
        }
        break;
      case In::kLiteral:
        if (c == '\'' || c == '\n') in = In::kCode;
        break;
      case In::kMlLiteral:
        if (starts("'''")) close_multiline('\'');
        break;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((u & 0xc0) != 0x80) {
      ++column;  // toml++ counts columns in code points
    }
  }
  return Status::Ok();
}

}  // namespace lastcall
