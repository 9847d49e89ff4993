#include "mockmeta/core/cloud_error.h"

namespace lastcall::mock {

namespace {
// A cloud code is one word of letters, digits and dots, e.g. "InvalidParameter.Foo".
bool LooksLikeCode(std::string_view s) {
  if (s.empty() || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

Status CloudError(StatusCode code, std::string_view cloud_code, std::string_view message) {
  std::string m(cloud_code);
  m += ": ";
  m += message;
  return Status(code, std::move(m));
}

std::string_view CloudErrorCode(const Status& s) {
  std::string_view m = s.message();
  const size_t colon = m.find(": ");
  if (colon == std::string_view::npos || !LooksLikeCode(m.substr(0, colon))) return {};
  return m.substr(0, colon);
}

std::string_view CloudErrorMessage(const Status& s) {
  const std::string_view code = CloudErrorCode(s);
  std::string_view m = s.message();
  return code.empty() ? m : m.substr(code.size() + 2);
}

}  // namespace lastcall::mock
