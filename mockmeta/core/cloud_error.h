// CloudError: a Status that also carries the error code a real cloud would answer with.
//
// Every mutating Market / flavor API returns Status or Result<T> and applies fully or not at all.
// The cloud's code ("InvalidParameterValue", "InvalidSpotPriceLimit.LowerThanPublicPrice",
// "OperationDenied.NoStock", "InsufficientInstanceCapacity") is kept at the front of the
// message as "<Code>: <human message>", so it survives any Status plumbing without changing the
// shared Status contract; the control/compat API splits it back out with CloudErrorCode() and
// CloudErrorMessage() and picks the HTTP status from StatusCode.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lastcall::mock {

// Generic codes used by the base (flavor-neutral) APIs.
inline constexpr std::string_view kInvalidParameterValue = "InvalidParameterValue";
inline constexpr std::string_view kMissingParameter = "MissingParameter";
inline constexpr std::string_view kInvalidPoolNotFound = "InvalidPool.NotFound";
inline constexpr std::string_view kInvalidInstanceIdNotFound = "InvalidInstanceID.NotFound";
inline constexpr std::string_view kIncorrectInstanceState = "IncorrectInstanceState";
inline constexpr std::string_view kInsufficientCapacity = "InsufficientInstanceCapacity";

Status CloudError(StatusCode code, std::string_view cloud_code, std::string_view message);
// "" when the status carries no cloud code.
std::string_view CloudErrorCode(const Status& s);
// The message without the code prefix.
std::string_view CloudErrorMessage(const Status& s);

}  // namespace lastcall::mock
