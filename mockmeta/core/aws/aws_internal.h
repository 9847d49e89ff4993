// Internal to the AWS flavor (aws/*.cc only; not part of aws.h's API): the helpers more than one
// of AwsFlavor's source files needs, kept here once instead of copied into each file.
//
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <string>

#include "common/status.h"
#include "mockmeta/core/cloud_error.h"

namespace lastcall::mock::aws_internal {

inline Status Invalid(const std::string& message) {
  return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue, message);
}

}  // namespace lastcall::mock::aws_internal
