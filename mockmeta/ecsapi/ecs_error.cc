#include "mockmeta/ecsapi/ecs_error.h"

#include <nlohmann/json.hpp>

#include "mockmeta/core/alibaba/alibaba.h"
#include "mockmeta/core/cloud_error.h"

namespace lastcall::mock::ecs {
namespace {

struct Entry {
  EcsErrorCode code;
  std::string_view name;
  int http;
};

constexpr Entry kTable[] = {
    {EcsErrorCode::kDryRunOperation, "DryRunOperation", 400},
    {EcsErrorCode::kIncompleteSignature, "IncompleteSignature", 400},
    {EcsErrorCode::kIncorrectInstanceStatus, kAliIncorrectStatus, 403},
    {EcsErrorCode::kInternalError, "InternalError", 500},
    {EcsErrorCode::kInvalidAccessKeyIdNotFound, "InvalidAccessKeyId.NotFound", 404},
    {EcsErrorCode::kInvalidActionNotFound, "InvalidAction.NotFound", 404},
    {EcsErrorCode::kInvalidAmount, kAliInvalidAmount, 400},
    {EcsErrorCode::kInvalidInstanceIdNotFound, kAliInstanceNotFound, 404},
    {EcsErrorCode::kInvalidInstanceTypeValueNotSupported, kAliInvalidType, 400},
    {EcsErrorCode::kInvalidInterruptionBehavior, kAliInvalidInterruptionBehavior, 400},
    {EcsErrorCode::kInvalidParameter, "InvalidParameter", 400},
    {EcsErrorCode::kInvalidRegionIdNotFound, "InvalidRegionId.NotFound", 404},
    {EcsErrorCode::kInvalidResourceTypeNotSupported, kAliTypeNotInZone, 400},
    {EcsErrorCode::kInvalidSpotDuration, kAliInvalidSpotDuration, 400},
    {EcsErrorCode::kInvalidSpotPriceLimit, kAliInvalidSpotPriceLimit, 400},
    {EcsErrorCode::kInvalidSpotPriceLimitLowerThanPublicPrice, kAliLowerThanPublicPrice, 400},
    {EcsErrorCode::kInvalidSpotStrategy, kAliInvalidSpotStrategy, 400},
    {EcsErrorCode::kInvalidStoppedMode, kAliInvalidStoppedMode, 400},
    {EcsErrorCode::kInvalidTimeStampFormat, "InvalidTimeStamp.Format", 400},
    {EcsErrorCode::kInvalidVersion, "InvalidVersion", 400},
    {EcsErrorCode::kInvalidZoneIdNotFound, kAliInvalidZone, 404},
    {EcsErrorCode::kMissingParameter, "MissingParameter", 400},
    {EcsErrorCode::kMissingSpotPriceLimit, kAliMissingSpotPriceLimit, 400},
    {EcsErrorCode::kOperationDeniedNoStock, kAliNoStock, 403},
    {EcsErrorCode::kSignatureDoesNotMatch, "SignatureDoesNotMatch", 400},
    {EcsErrorCode::kSignatureNonceUsed, "SignatureNonceUsed", 400},
    {EcsErrorCode::kUnsupportedHttpMethod, "UnsupportedHTTPMethod", 400},
};

const Entry& EntryOf(EcsErrorCode code) {
  for (const Entry& e : kTable) {
    if (e.code == code) return e;
  }
  return kTable[3];  // InternalError
}

// The market's flavor-neutral codes, in ECS's words.
struct Alias {
  std::string_view market;
  EcsErrorCode code;
};
constexpr Alias kAliases[] = {
    {kInvalidParameterValue, EcsErrorCode::kInvalidParameter},
    {kMissingParameter, EcsErrorCode::kMissingParameter},
    {kInvalidPoolNotFound, EcsErrorCode::kInvalidResourceTypeNotSupported},
    {kInvalidInstanceIdNotFound, EcsErrorCode::kInvalidInstanceIdNotFound},
    {kIncorrectInstanceState, EcsErrorCode::kIncorrectInstanceStatus},
    {kInsufficientCapacity, EcsErrorCode::kOperationDeniedNoStock},
};

}  // namespace

std::string_view EcsErrorCodeName(EcsErrorCode code) { return EntryOf(code).name; }
int EcsHttpStatus(EcsErrorCode code) { return EntryOf(code).http; }

std::string EcsError::ToJson(std::string_view request_id) const {
  nlohmann::json j = {{"RequestId", request_id},
                      {"HostId", "ecs.aliyuncs.com"},
                      {"Code", EcsErrorCodeName(code)},
                      {"Message", message},
                      {"Recommend", "https://api.aliyun.com/troubleshoot?q=" +
                                        std::string(EcsErrorCodeName(code))}};
  // Foreign bytes may sit in a message (an echoed parameter): never throw on bad UTF-8.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

EcsError FromMarketStatus(const Status& status) {
  const std::string_view cloud = CloudErrorCode(status);
  const std::string& message = status.message();
  for (const Entry& e : kTable) {
    if (!cloud.empty() && e.name == cloud) return {e.code, message};
  }
  for (const Alias& a : kAliases) {
    if (a.market == cloud) return {a.code, message};
  }
  if (status.code() == StatusCode::kInvalidArgument) {
    return {EcsErrorCode::kInvalidParameter, message};
  }
  if (status.code() == StatusCode::kNotFound) {
    return {EcsErrorCode::kInvalidInstanceIdNotFound, message};
  }
  return {EcsErrorCode::kInternalError, message};
}

}  // namespace lastcall::mock::ecs
