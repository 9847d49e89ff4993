#include "mockmeta/ec2api/ec2_error.h"

#include <utility>

#include "mockmeta/core/cloud_error.h"
#include "mockmeta/ec2api/xml_writer.h"

namespace lastcall::mock::ec2 {

namespace {

struct CodeInfo {
  Ec2ErrorCode code;
  std::string_view name;
  int http_status;
};

constexpr CodeInfo kCodes[] = {
    {Ec2ErrorCode::kAuthFailure, "AuthFailure", 401},
    {Ec2ErrorCode::kDryRunOperation, "DryRunOperation", 412},
    {Ec2ErrorCode::kIncompleteSignature, "IncompleteSignature", 400},
    {Ec2ErrorCode::kIncorrectInstanceState, "IncorrectInstanceState", 400},
    {Ec2ErrorCode::kIncorrectState, "IncorrectState", 400},
    {Ec2ErrorCode::kInsufficientInstanceCapacity, "InsufficientInstanceCapacity", 500},
    {Ec2ErrorCode::kInstanceLimitExceeded, "InstanceLimitExceeded", 400},
    {Ec2ErrorCode::kInternalError, "InternalError", 500},
    {Ec2ErrorCode::kInvalidAction, "InvalidAction", 400},
    {Ec2ErrorCode::kInvalidEventNotFound, "InvalidInstanceEventID.NotFound", 400},
    {Ec2ErrorCode::kInvalidInstanceIdMalformed, "InvalidInstanceID.Malformed", 400},
    {Ec2ErrorCode::kInvalidInstanceIdNotFound, "InvalidInstanceID.NotFound", 400},
    {Ec2ErrorCode::kInvalidPaginationToken, "InvalidPaginationToken", 400},
    {Ec2ErrorCode::kInvalidParameterCombination, "InvalidParameterCombination", 400},
    {Ec2ErrorCode::kInvalidParameterValue, "InvalidParameterValue", 400},
    {Ec2ErrorCode::kInvalidQueryParameter, "InvalidQueryParameter", 400},
    {Ec2ErrorCode::kInvalidSpotInstanceRequestIdMalformed, "InvalidSpotInstanceRequestID.Malformed",
     400},
    {Ec2ErrorCode::kInvalidSpotInstanceRequestIdNotFound, "InvalidSpotInstanceRequestID.NotFound",
     400},
    {Ec2ErrorCode::kMalformedQueryString, "MalformedQueryString", 400},
    {Ec2ErrorCode::kMissingAction, "MissingAction", 400},
    {Ec2ErrorCode::kMissingParameter, "MissingParameter", 400},
    {Ec2ErrorCode::kSpotMaxPriceTooLow, "SpotMaxPriceTooLow", 400},
    {Ec2ErrorCode::kUnauthorizedOperation, "UnauthorizedOperation", 403},
    {Ec2ErrorCode::kUnsupportedOperation, "UnsupportedOperation", 400},
};

const CodeInfo& Info(Ec2ErrorCode code) {
  for (const CodeInfo& i : kCodes) {
    if (i.code == code) return i;
  }
  return kCodes[7];  // InternalError
}

// The market's cloud codes (cloud_error.h, aws/aws_*.cc) and the EC2 codes they are.
struct MarketCode {
  std::string_view market;
  Ec2ErrorCode ec2;
};
constexpr MarketCode kMarketCodes[] = {
    {kInvalidParameterValue, Ec2ErrorCode::kInvalidParameterValue},
    {kMissingParameter, Ec2ErrorCode::kMissingParameter},
    {kInvalidPoolNotFound, Ec2ErrorCode::kInvalidParameterValue},
    {kInvalidInstanceIdNotFound, Ec2ErrorCode::kInvalidInstanceIdNotFound},
    {kIncorrectInstanceState, Ec2ErrorCode::kIncorrectInstanceState},
    {kInsufficientCapacity, Ec2ErrorCode::kInsufficientInstanceCapacity},
    {"InvalidSpotInstanceRequestID.NotFound", Ec2ErrorCode::kInvalidSpotInstanceRequestIdNotFound},
    {"SpotMaxPriceTooLow", Ec2ErrorCode::kSpotMaxPriceTooLow},
    {"UnsupportedOperation", Ec2ErrorCode::kUnsupportedOperation},
    {"InvalidInstanceEventID.NotFound", Ec2ErrorCode::kInvalidEventNotFound},
    {"InvalidState", Ec2ErrorCode::kIncorrectState},
};

}  // namespace

std::string_view Ec2ErrorCodeName(Ec2ErrorCode code) { return Info(code).name; }
int Ec2HttpStatus(Ec2ErrorCode code) { return Info(code).http_status; }

std::string Ec2Error::ToXml(std::string_view request_id) const {
  XmlWriter w;
  w.Open("Response").Open("Errors").Open("Error");
  w.Leaf("Code", Ec2ErrorCodeName(code)).Leaf("Message", message);
  w.Close().Close().Leaf("RequestID", request_id).Close();
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + w.str();
}

Ec2Error FromMarketStatus(const Status& status) {
  const std::string_view cloud = CloudErrorCode(status);
  std::string message(status.message());
  for (const MarketCode& m : kMarketCodes) {
    // "InvalidState" stands for its sub-codes too ("InvalidState.Foo").
    if (cloud == m.market || (cloud.rfind(m.market, 0) == 0 && cloud.size() > m.market.size() &&
                              cloud[m.market.size()] == '.')) {
      return {m.ec2, std::move(message)};
    }
  }
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:  // a time outside 1678-2261 (common/time_format.h)
      return {Ec2ErrorCode::kInvalidParameterValue, std::move(message)};
    case StatusCode::kFailedPrecondition:
      return {Ec2ErrorCode::kIncorrectState, std::move(message)};
    case StatusCode::kResourceExhausted:
      return {Ec2ErrorCode::kInsufficientInstanceCapacity, std::move(message)};
    default:
      return {Ec2ErrorCode::kInternalError, std::move(message)};
  }
}

}  // namespace lastcall::mock::ec2
