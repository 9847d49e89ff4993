// CloudError: a Status that also carries the error code a real cloud would answer with.
//
// Every mutating Market / flavor API returns Status or Result<T> and applies fully or not at all.
// The cloud's code ("InvalidParameterValue", "InvalidSpotPriceLimit.LowerThanPublicPrice",
// "OperationDenied.NoStock", "InsufficientInstanceCapacity") is the Status's reason
// (common/status.h), a field of its own beside the human message: it survives any Status
// plumbing (WithContext too), and the control API and the EC2 / ECS faces read it with
// CloudErrorCode() and pick the HTTP status from StatusCode; nobody parses it out of a message.
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
// The cloud code, "" when the status carries none.
inline const std::string& CloudErrorCode(const Status& s) { return s.reason(); }
// One line for people (event-log details, scenario load errors): "<Code>: <message>", or the
// message alone when there is no code.
std::string CloudErrorText(const Status& s);

}  // namespace lastcall::mock
