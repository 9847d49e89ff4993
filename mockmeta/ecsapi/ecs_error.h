// EcsError: an error of the ECS API as a typed value: which code (an enum), the message, and
// from those the HTTP status ECS answers with and the JSON body
// {"RequestId","HostId","Code","Message","Recommend"}.
//
// The market core reports its errors as Status values carrying a cloud code (cloud_error.h,
// alibaba.h); FromMarketStatus maps those onto EcsErrorCode in one table, so no action
// compares strings. HTTP statuses follow ECS: 400 for bad parameters and signatures, 403 for
// refused operations (IncorrectInstanceStatus, OperationDenied.NoStock), 404 for unknown ids,
// actions and access keys, 500 InternalError.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lastcall::mock::ecs {

enum class EcsErrorCode {
  kDryRunOperation,
  kIncompleteSignature,
  kIncorrectInstanceStatus,
  kInternalError,
  kInvalidAccessKeyIdNotFound,
  kInvalidActionNotFound,
  kInvalidAmount,
  kInvalidInstanceIdNotFound,
  kInvalidInstanceTypeValueNotSupported,
  kInvalidInterruptionBehavior,
  kInvalidParameter,
  kInvalidRegionIdNotFound,
  kInvalidResourceTypeNotSupported,
  kInvalidSpotDuration,
  kInvalidSpotPriceLimit,
  kInvalidSpotPriceLimitLowerThanPublicPrice,
  kInvalidSpotStrategy,
  kInvalidStoppedMode,
  kInvalidTimeStampFormat,
  kInvalidVersion,
  kInvalidZoneIdNotFound,
  kMissingParameter,
  kMissingSpotPriceLimit,
  kOperationDeniedNoStock,
  kSignatureDoesNotMatch,
  kSignatureNonceUsed,
  kUnsupportedHttpMethod,
};

// ECS's spelling: "InvalidInstanceId.NotFound", "OperationDenied.NoStock", ...
std::string_view EcsErrorCodeName(EcsErrorCode code);
int EcsHttpStatus(EcsErrorCode code);

struct EcsError {
  EcsErrorCode code = EcsErrorCode::kInternalError;
  std::string message;

  int http_status() const { return EcsHttpStatus(code); }
  // The whole error document.
  std::string ToJson(std::string_view request_id) const;
};

using MaybeError = std::optional<EcsError>;

// The ECS error for a market Status (its cloud code, or InternalError when it carries none).
EcsError FromMarketStatus(const Status& status);

}  // namespace lastcall::mock::ecs
