#include "mockmeta/http/form_params.h"

namespace lastcall::mock {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A bounded, printable excerpt of foreign text for an error message.
std::string Excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 40) out += "...";
  return out;
}

// Percent-decodes one component ('+' is a space); a malformed escape is an error.
Result<std::string> DecodeComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) {
        return InvalidArgument("malformed percent escape at \"" + Excerpt(s.substr(i)) + "\"");
      }
      const int a = HexValue(s[i + 1]);
      const int b = HexValue(s[i + 2]);
      if (a < 0 || b < 0) {
        return InvalidArgument("malformed percent escape at \"" + Excerpt(s.substr(i)) + "\"");
      }
      out += static_cast<char>(a * 16 + b);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Status DecodeForm(std::string_view form, FormValues& into) {
  size_t pos = 0;
  while (pos <= form.size() && !form.empty()) {
    size_t amp = form.find('&', pos);
    if (amp == std::string_view::npos) amp = form.size();
    std::string_view pair = form.substr(pos, amp - pos);
    pos = amp + 1;
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      Result<std::string> name = DecodeComponent(pair.substr(0, eq));
      if (!name.ok()) return name.status();
      Result<std::string> value =
          DecodeComponent(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!value.ok()) return value.status();
      if (name->empty()) return InvalidArgument("a parameter without a name");
      if (into.count(*name) != 0) {
        return InvalidArgument("parameter \"" + Excerpt(*name) + "\" is given more than once");
      }
      if (into.size() >= kMaxFormParams) {
        return InvalidArgument("more than " + std::to_string(kMaxFormParams) + " parameters");
      }
      into.emplace(std::move(*name), std::move(*value));
    }
    if (amp == form.size()) break;
  }
  return Status::Ok();
}

const std::string* FormParams::Get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

}  // namespace lastcall::mock
