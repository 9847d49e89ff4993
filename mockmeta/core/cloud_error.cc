#include "mockmeta/core/cloud_error.h"

namespace lastcall::mock {

Status CloudError(StatusCode code, std::string_view cloud_code, std::string_view message) {
  return Status(code, std::string(message), std::string(cloud_code));
}

std::string CloudErrorText(const Status& s) {
  if (s.reason().empty()) return s.message();
  return s.reason() + ": " + s.message();
}

}  // namespace lastcall::mock
