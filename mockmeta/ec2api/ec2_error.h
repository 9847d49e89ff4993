// Ec2Error: an error of the EC2 Query API as a typed value: which code (an enum), the message,
// and from those the HTTP status EC2 answers with and the XML body
// (<Response><Errors><Error><Code>..</Code><Message>..</Message></Error></Errors>
//  <RequestID>..</RequestID></Response>).
//
// The market core reports its errors as Status values carrying a cloud code (cloud_error.h);
// FromMarketStatus maps those onto Ec2ErrorCode in one table, so no action compares strings.
// HTTP statuses follow EC2: 400 for client errors, 401 AuthFailure, 403 UnauthorizedOperation,
// 412 DryRunOperation, 500 InternalError and InsufficientInstanceCapacity (the SDKs retry it,
// as they do against EC2), 503 Unavailable / RequestLimitExceeded.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lastcall::mock::ec2 {

enum class Ec2ErrorCode {
  kAuthFailure,
  kDryRunOperation,
  kIncompleteSignature,
  kIncorrectInstanceState,
  kIncorrectState,
  kInsufficientInstanceCapacity,
  kInstanceLimitExceeded,
  kInternalError,
  kInvalidAction,
  kInvalidEventNotFound,
  kInvalidInstanceIdMalformed,
  kInvalidInstanceIdNotFound,
  kInvalidPaginationToken,
  kInvalidParameterCombination,
  kInvalidParameterValue,
  kInvalidQueryParameter,
  kInvalidSpotInstanceRequestIdMalformed,
  kInvalidSpotInstanceRequestIdNotFound,
  kMalformedQueryString,
  kMissingAction,
  kMissingParameter,
  kSpotMaxPriceTooLow,
  kUnauthorizedOperation,
  kUnsupportedOperation,
};

// EC2's spelling: "InvalidInstanceID.NotFound", "DryRunOperation", ...
std::string_view Ec2ErrorCodeName(Ec2ErrorCode code);
int Ec2HttpStatus(Ec2ErrorCode code);

struct Ec2Error {
  Ec2ErrorCode code = Ec2ErrorCode::kInternalError;
  std::string message;

  int http_status() const { return Ec2HttpStatus(code); }
  // The whole error document.
  std::string ToXml(std::string_view request_id) const;
};

using MaybeError = std::optional<Ec2Error>;

// The EC2 error for a market Status (its cloud code, or its StatusCode when it carries none).
Ec2Error FromMarketStatus(const Status& status);

}  // namespace lastcall::mock::ec2
