// AwsFlavor: spot requests. The request vocabulary (type and interruption behavior names), the
// spec's validation, creating and cancelling requests, looking one up, and the bookkeeping of a
// request's state and status code (SetRequest, and what happens to it when its instance ends).
#include <cmath>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/aws/aws.h"
#include "mockmeta/core/aws/aws_internal.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

using aws_internal::Invalid;

namespace {

constexpr std::string_view kInvalidRequestNotFound = "InvalidSpotInstanceRequestID.NotFound";

std::string Pair(std::string_view state, std::string_view status) {
  return std::string(state) + "/" + std::string(status);
}

}  // namespace

std::string_view SpotRequestTypeName(SpotRequestType t) {
  return t == SpotRequestType::kOneTime ? "one-time" : "persistent";
}

std::string_view InterruptionBehaviorName(InterruptionBehavior b) {
  switch (b) {
    case InterruptionBehavior::kTerminate:
      return "terminate";
    case InterruptionBehavior::kStop:
      return "stop";
    case InterruptionBehavior::kHibernate:
      return "hibernate";
  }
  return "terminate";
}

Result<SpotRequestType> ParseSpotRequestType(std::string_view s) {
  if (s == "one-time") return SpotRequestType::kOneTime;
  if (s == "persistent") return SpotRequestType::kPersistent;
  return Invalid("Type \"" + std::string(s) + "\" must be one-time or persistent");
}

Result<InterruptionBehavior> ParseInterruptionBehavior(std::string_view s) {
  if (s == "terminate") return InterruptionBehavior::kTerminate;
  if (s == "stop") return InterruptionBehavior::kStop;
  if (s == "hibernate") return InterruptionBehavior::kHibernate;
  return Invalid("InstanceInterruptionBehavior \"" + std::string(s) +
                 "\" must be terminate, stop or hibernate");
}

// --- Spot requests -----------------------------------------------------------------------------

Status AwsFlavor::ValidateSpec(const SpotRequestSpec& s) const {
  const InstanceType* type = market_.catalog().FindType(s.instance_type);
  if (!type) {
    return Invalid("LaunchSpecification.InstanceType: unknown instance type \"" + s.instance_type +
                   "\"");
  }
  if (!s.zone.empty() && !market_.catalog().FindZone(s.zone)) {
    return Invalid("LaunchSpecification.Placement.AvailabilityZone: unknown zone \"" + s.zone +
                   "\"");
  }
  if (s.max_price && (!std::isfinite(*s.max_price) || *s.max_price <= 0)) {
    return Invalid("SpotPrice: " + FormatPrice(*s.max_price) + " must be greater than 0");
  }
  if (s.instance_count < 1 || s.instance_count > 1000) {
    return Invalid("InstanceCount: " + std::to_string(s.instance_count) +
                   " must be between 1 and 1000");
  }
  if (s.valid_from && s.valid_until && *s.valid_until <= *s.valid_from) {
    return Invalid("ValidUntil " + FormatRfc3339(*s.valid_until) + " must be after ValidFrom " +
                   FormatRfc3339(*s.valid_from));
  }
  if (s.valid_until && *s.valid_until <= market_.now()) {
    return Invalid("ValidUntil " + FormatRfc3339(*s.valid_until) + " must be in the future (now " +
                   FormatRfc3339(market_.now()) + ")");
  }
  if (s.block_duration_minutes != 0) {
    if (s.block_duration_minutes < 60 || s.block_duration_minutes > 360 ||
        s.block_duration_minutes % 60 != 0) {
      return Invalid("BlockDurationMinutes: " + std::to_string(s.block_duration_minutes) +
                     " must be 60, 120, 180, 240, 300 or 360");
    }
    if (s.type != SpotRequestType::kOneTime) {
      return Invalid("BlockDurationMinutes: a spot block request must be one-time");
    }
  }
  if (s.interruption_behavior != InterruptionBehavior::kTerminate &&
      s.type != SpotRequestType::kPersistent) {
    return Invalid("InstanceInterruptionBehavior " +
                   std::string(InterruptionBehaviorName(s.interruption_behavior)) +
                   " requires Type persistent");
  }
  if (s.interruption_behavior != InterruptionBehavior::kTerminate &&
      s.block_duration_minutes != 0) {
    return Invalid("InstanceInterruptionBehavior must be terminate for a spot block");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> AwsFlavor::RequestSpotInstances(const SpotRequestSpec& spec,
                                                                 std::string_view cause) {
  LASTCALL_RETURN_IF_ERROR(ValidateSpec(spec));
  const InstanceType* type = market_.catalog().FindType(spec.instance_type);
  bool any_pool = false;
  for (const Pool& p : market_.catalog().pools()) {
    if (p.type == spec.instance_type && (spec.zone.empty() || p.zone == spec.zone)) any_pool = true;
  }
  std::vector<std::string> ids;
  for (int i = 0; i < spec.instance_count; ++i) {
    std::string id;
    do {
      id = market_.NewId("sir-", 8, false);
    } while (requests_.count(id));
    SpotRequest& r = requests_[id];
    r.id = id;
    r.seq = ++request_seq_;
    r.spec = spec;
    r.spec.instance_count = 1;
    r.max_price = spec.max_price ? *spec.max_price : type->on_demand_price;
    r.create_time = market_.now();
    const std::string detail =
        std::string(SpotRequestTypeName(spec.type)) + " " + spec.instance_type + "@" +
        (spec.zone.empty() ? "any" : spec.zone) + " max " + FormatPrice(r.max_price) +
        (spec.launch_group.empty() ? "" : " group " + spec.launch_group) +
        (spec.block_duration_minutes ? " block " + std::to_string(spec.block_duration_minutes) + "m"
                                     : "");
    SetRequest(r, spot_state::kOpen, "pending-evaluation", cause, detail);
    if (!any_pool) {
      SetRequest(r, spot_state::kFailed, "bad-parameters", cause,
                 "no spot pool sells " + spec.instance_type +
                     (spec.zone.empty() ? "" : " in " + spec.zone));
    }
    ids.push_back(id);
  }
  if (any_pool) {
    Due(market_.now(), "eval");
    if (spec.valid_from && *spec.valid_from > market_.now()) Due(*spec.valid_from, "eval");
    if (spec.valid_until) Due(*spec.valid_until, "eval");
  }
  return ids;
}

Status AwsFlavor::CancelSpotInstanceRequests(const std::vector<std::string>& ids,
                                             std::string_view cause) {
  for (const std::string& id : ids) {
    if (!requests_.count(id)) {
      return CloudError(StatusCode::kNotFound, kInvalidRequestNotFound,
                        "the spot instance request ID '" + id + "' does not exist");
    }
  }
  for (const std::string& id : ids) {
    SpotRequest& r = requests_.find(id)->second;
    if (r.state == spot_state::kOpen) {
      SetRequest(r, spot_state::kCancelled, "canceled-before-fulfillment", cause);
    } else if (r.state == spot_state::kActive || r.state == spot_state::kDisabled) {
      SetRequest(r, spot_state::kCancelled, "request-canceled-and-instance-running", cause,
                 "instance " + r.instance_id + " keeps running");
    }
  }
  return Status::Ok();
}

const SpotRequest* AwsFlavor::FindRequest(std::string_view id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : &it->second;
}

// --- Request state ----------------------------------------------------------------------------

void AwsFlavor::RequestAfterEnd(SpotRequest& r, std::string_view status, std::string_view cause) {
  const WallTime now = market_.now();
  if (r.state == spot_state::kCancelled || status == "instance-terminated-by-service") {
    SetRequest(r, spot_state::kCancelled, status, cause);
  } else if (r.spec.type == SpotRequestType::kPersistent &&
             status != "instance-terminated-by-schedule") {
    if (r.spec.valid_until && now >= *r.spec.valid_until) {
      SetRequest(r, spot_state::kCancelled, "schedule-expired", cause::kExpiry,
                 "instance ended (" + std::string(status) + ") after ValidUntil");
    } else {
      SetRequest(r, spot_state::kOpen, status, cause, "persistent request opens again");
      Due(now, "eval");
    }
  } else {
    SetRequest(r, spot_state::kClosed, status, cause);
  }
}

void AwsFlavor::SetRequest(SpotRequest& r, std::string_view state, std::string_view status,
                           std::string_view cause, std::string_view detail) {
  if (r.state == state && r.status_code == status) return;
  const std::string old = r.state.empty() ? "" : Pair(r.state, r.status_code);
  r.state = std::string(state);
  r.status_code = std::string(status);
  if (r.state == spot_state::kOpen || r.state == spot_state::kDisabled) {
    waiting_[r.id] = &r;  // r.id: the key of r's node in requests_, stable
  } else {
    waiting_.erase(r.id);
  }
  r.status_update_time = market_.now();
  market_.Log(kind::kSpotRequest, r.id, old, Pair(state, status), cause, detail);
}

}  // namespace lastcall::mock
