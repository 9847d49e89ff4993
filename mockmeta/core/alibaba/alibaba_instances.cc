// AlibabaFlavor: the ECS API. The request vocabulary (SpotStrategy, SpotInterruptionBehavior,
// StoppedMode names and parsers), RunInstances with its validation and network ids, finding an
// instance, StopInstance / StartInstance / DeleteInstance, and ForceRecycle (fault injection).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/alibaba/alibaba.h"
#include "mockmeta/core/alibaba/alibaba_internal.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

using alibaba_internal::PriceUnits;
using alibaba_internal::Quote;

namespace {

// What StopInstance and StartInstance both refuse (IncorrectInstanceStatus): an instance To Be
// Released, or one not in the state the call needs (`need`: that state in ECS's words).
Status RequireStatus(const std::string& id, bool to_be_released, InstanceState state,
                     InstanceState want, std::string_view call, std::string_view need) {
  if (to_be_released) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + id + " is To Be Released (OperationLocks: Recycling)");
  }
  if (state != want) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + id + " is " + std::string(InstanceStateName(state)) + ", " +
                          std::string(call) + " needs " + std::string(need));
  }
  return Status::Ok();
}

}  // namespace

std::string_view SpotStrategyName(SpotStrategy s) {
  switch (s) {
    case SpotStrategy::kNoSpot:
      return "NoSpot";
    case SpotStrategy::kSpotAsPriceGo:
      return "SpotAsPriceGo";
    case SpotStrategy::kSpotWithPriceLimit:
      return "SpotWithPriceLimit";
  }
  return "NoSpot";
}

std::string_view SpotInterruptionBehaviorName(SpotInterruptionBehavior b) {
  return b == SpotInterruptionBehavior::kStop ? "Stop" : "Terminate";
}

std::string_view StoppedModeName(StoppedMode m) {
  return m == StoppedMode::kStopCharging ? "StopCharging" : "KeepCharging";
}

Result<SpotStrategy> ParseSpotStrategy(std::string_view s) {
  for (SpotStrategy v :
       {SpotStrategy::kNoSpot, SpotStrategy::kSpotAsPriceGo, SpotStrategy::kSpotWithPriceLimit}) {
    if (s == SpotStrategyName(v)) return v;
  }
  return CloudError(
      StatusCode::kInvalidArgument, kAliInvalidSpotStrategy,
      "SpotStrategy " + Quote(s) + " is not one of NoSpot, SpotAsPriceGo, SpotWithPriceLimit");
}

Result<SpotInterruptionBehavior> ParseSpotInterruptionBehavior(std::string_view s) {
  if (s == "Terminate") return SpotInterruptionBehavior::kTerminate;
  if (s == "Stop") return SpotInterruptionBehavior::kStop;
  return CloudError(StatusCode::kInvalidArgument, kAliInvalidInterruptionBehavior,
                    "SpotInterruptionBehavior " + Quote(s) + " is not one of Terminate, Stop");
}

Result<StoppedMode> ParseStoppedMode(std::string_view s) {
  if (s == "KeepCharging") return StoppedMode::kKeepCharging;
  if (s == "StopCharging") return StoppedMode::kStopCharging;
  return CloudError(StatusCode::kInvalidArgument, kAliInvalidStoppedMode,
                    "StoppedMode " + Quote(s) + " is not one of KeepCharging, StopCharging");
}

// --- ECS API --------------------------------------------------------------------------------

Status AlibabaFlavor::ValidateRunRequest(const AlibabaRunRequest& req) const {
  if (req.amount < 1 || req.amount > kAliMaxAmount) {
    return CloudError(StatusCode::kInvalidArgument, kAliInvalidAmount,
                      "Amount " + std::to_string(req.amount) + " must be in [1, " +
                          std::to_string(kAliMaxAmount) + "]");
  }
  if (!market_.catalog().FindZone(req.zone)) {
    return CloudError(StatusCode::kInvalidArgument, kAliInvalidZone,
                      "ZoneId " + Quote(req.zone) + " does not exist");
  }
  const InstanceType* type = market_.catalog().FindType(req.instance_type);
  if (!type) {
    return CloudError(StatusCode::kInvalidArgument, kAliInvalidType,
                      "InstanceType " + Quote(req.instance_type) + " does not exist");
  }
  if (req.spot_duration != 0 && req.spot_duration != 1) {
    return CloudError(StatusCode::kInvalidArgument, kAliInvalidSpotDuration,
                      "SpotDuration " + std::to_string(req.spot_duration) + " must be 0 or 1");
  }
  if (req.strategy == SpotStrategy::kNoSpot) return Status::Ok();
  if (!market_.catalog().FindPool(PoolId(req.instance_type, req.zone))) {
    return CloudError(StatusCode::kInvalidArgument, kAliTypeNotInZone,
                      "preemptible " + req.instance_type + " is not sold in zone " + req.zone +
                          " (no pool " + PoolId(req.instance_type, req.zone) + ")");
  }
  if (req.strategy == SpotStrategy::kSpotWithPriceLimit) {
    if (!req.spot_price_limit) {
      return CloudError(StatusCode::kInvalidArgument, kAliMissingSpotPriceLimit,
                        "SpotPriceLimit is required when SpotStrategy is SpotWithPriceLimit");
    }
    const double limit = *req.spot_price_limit;
    if (!std::isfinite(limit) || limit <= 0) {
      return CloudError(StatusCode::kInvalidArgument, kAliInvalidSpotPriceLimit,
                        "SpotPriceLimit " + FormatPrice(limit) + " must be a positive price");
    }
    if (PriceUnits(limit) > PriceUnits(type->on_demand_price)) {
      return CloudError(StatusCode::kInvalidArgument, kAliInvalidSpotPriceLimit,
                        "SpotPriceLimit " + FormatPrice(limit) +
                            " exceeds the pay-as-you-go price " +
                            FormatPrice(type->on_demand_price) + " of " + type->name);
    }
  }
  return Status::Ok();
}

std::string AlibabaFlavor::NetworkId(std::map<std::string, std::string, std::less<>>& ids,
                                     std::string_view key, std::string_view prefix) {
  auto it = ids.find(key);
  if (it != ids.end()) return it->second;
  std::string id = market_.NewId(prefix, 22, false);
  ids.emplace(std::string(key), id);
  return id;
}

Result<std::vector<std::string>> AlibabaFlavor::RunInstances(const AlibabaRunRequest& req,
                                                             std::string_view cause_name) {
  LASTCALL_RETURN_IF_ERROR(ValidateRunRequest(req));
  const InstanceType* type = market_.catalog().FindType(req.instance_type);
  const Pool* pool = market_.catalog().FindPool(PoolId(req.instance_type, req.zone));
  const bool spot = req.strategy != SpotStrategy::kNoSpot;
  const int duration = spot ? req.spot_duration : 0;
  double creation_price = type->on_demand_price;
  if (spot) {
    creation_price = MarketPrice(pool->price, duration);
    if (req.strategy == SpotStrategy::kSpotWithPriceLimit &&
        PriceUnits(*req.spot_price_limit) < PriceUnits(creation_price)) {
      return CloudError(StatusCode::kInvalidArgument, kAliLowerThanPublicPrice,
                        "SpotPriceLimit " + FormatPrice(*req.spot_price_limit) +
                            " is lower than the market price " + FormatPrice(creation_price) +
                            " of " + pool->id + (duration == 0 ? " without protection" : ""));
    }
    if (pool->Free() < req.amount) {
      return CloudError(StatusCode::kResourceExhausted, kAliNoStock,
                        "no stock for " + std::to_string(req.amount) + " preemptible " +
                            req.instance_type + " in " + req.zone + ": " +
                            std::to_string(pool->Free()) + " free (" +
                            std::to_string(pool->spot_running) + " of " +
                            std::to_string(pool->capacity) + " in use)");
    }
  }
  // Validated: from here on nothing fails.
  const std::string region = market_.catalog().FindZone(req.zone)->region;
  const double limit =
      req.strategy == SpotStrategy::kSpotWithPriceLimit ? RoundPrice(*req.spot_price_limit) : 0;
  std::string detail = "SpotStrategy=" + std::string(SpotStrategyName(req.strategy));
  if (req.strategy == SpotStrategy::kSpotWithPriceLimit) {
    detail += " SpotPriceLimit=" + FormatPrice(limit);
  }
  if (spot) {
    detail += " SpotDuration=" + std::to_string(duration) + " SpotInterruptionBehavior=" +
              std::string(SpotInterruptionBehaviorName(req.interruption_behavior));
  }
  detail += " price=" + FormatPrice(creation_price);
  std::vector<std::string> ids;
  for (int i = 0; i < req.amount; ++i) {
    Record r;
    r.strategy = req.strategy;
    r.limit = limit;
    r.spot_duration = duration;
    r.behavior = req.interruption_behavior;
    r.created = market_.now();
    r.creation_price = creation_price;
    r.on_demand = type->on_demand_price;
    r.tie_key = spot ? rng_.Next() : 0;
    r.vpc_id = NetworkId(vpcs_, region, "vpc-");
    r.vswitch_id = NetworkId(vswitches_, req.zone, "vsw-");
    r.serial_number = market_.NewId("", 8, true) + "-" + market_.NewId("", 4, true) + "-" +
                      market_.NewId("", 4, true) + "-" + market_.NewId("", 4, true) + "-" +
                      market_.NewId("", 12, true);
    Instance inst;
    inst.flavor = FlavorKind::kAlibaba;
    inst.type = req.instance_type;
    inst.zone = req.zone;
    inst.spot = spot;
    inst.state = InstanceState::kRunning;
    inst.settings = req.settings;
    inst.name =
        req.amount > 1 && !req.name.empty() ? req.name + "-" + std::to_string(i + 1) : req.name;
    Result<Instance*> added = market_.AddInstance(std::move(inst), spot, cause_name, detail);
    if (!added.ok()) return added.status();  // cannot happen: checked above
    Instance& stored = **added;
    if (stored.name.empty()) stored.name = stored.id;  // Alibaba's default InstanceName
    r.id = stored.id;
    r.pool = stored.pool;
    r.inst = &stored;
    Record& rec = records_.emplace(r.id, std::move(r)).first->second;
    OpenCharge(rec);
    UpdateIndex(rec);
    // Every preemptible instance gets its first check (protection may end while its pool is
    // already short or over its bid); later ones only while triggered.
    if (spot) ScheduleCheck(rec, NextGridPoint(rec, market_.now()));
    ids.push_back(rec.id);
  }
  return ids;
}

Result<AlibabaFlavor::Record*> AlibabaFlavor::Find(std::string_view id, Instance** inst) {
  auto it = records_.find(id);
  Instance* i = market_.FindInstance(id);
  if (it == records_.end() || !i || i->state == InstanceState::kTerminated) {
    return CloudError(StatusCode::kNotFound, kAliInstanceNotFound,
                      "InstanceId " + Quote(id) + " does not exist (or was released)");
  }
  *inst = i;
  return &it->second;
}

const AlibabaFlavor::Record* AlibabaFlavor::FindRecord(std::string_view id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

Status AlibabaFlavor::StopInstance(std::string_view id, StoppedMode mode,
                                   std::string_view cause_name) {
  Instance* inst = nullptr;
  Result<Record*> rec = Find(id, &inst);
  if (!rec.ok()) return rec.status();
  Record& r = **rec;
  LASTCALL_RETURN_IF_ERROR(RequireStatus(r.id, r.termination_time.has_value(), inst->state,
                                         InstanceState::kRunning, "StopInstance", "Running"));
  r.stopped_mode = mode;
  if (mode == StoppedMode::kStopCharging) {
    // Economical mode: compute (and the preemptible slot) is given back, billing stops.
    CloseCharge(r);
    CancelCheck(r);
    market_.ReleaseSpotSlot(*inst);
  }
  market_.SetInstanceState(*inst, InstanceState::kStopped, cause_name,
                           "StoppedMode=" + std::string(StoppedModeName(mode)));
  UpdateIndex(r);
  return Status::Ok();
}

Status AlibabaFlavor::StartInstance(std::string_view id, std::string_view cause_name) {
  Instance* inst = nullptr;
  Result<Record*> rec = Find(id, &inst);
  if (!rec.ok()) return rec.status();
  Record& r = **rec;
  LASTCALL_RETURN_IF_ERROR(RequireStatus(r.id, r.termination_time.has_value(), inst->state,
                                         InstanceState::kStopped, "StartInstance", "Stopped"));
  const WallTime now = market_.now();
  if (r.spot()) {
    // Seed 001's table: inside protection only stock matters (and only for StopCharging);
    // after it, SpotWithPriceLimit also needs bid >= market price.
    const Pool& pool = market_.catalog().pool(r.pool);
    const bool protected_now = now < r.protection_end();
    const double price = InstanceMarketPrice(r);
    if (!protected_now && r.strategy == SpotStrategy::kSpotWithPriceLimit &&
        PriceUnits(r.limit) < PriceUnits(price)) {
      return CloudError(StatusCode::kFailedPrecondition, kAliLowerThanPublicPrice,
                        "cannot start " + r.id + ": bid " + FormatPrice(r.limit) +
                            " is lower than the market price " + FormatPrice(price) + " of " +
                            pool.id);
    }
    const bool stock = inst->holds_slot ? pool.Shortage() == 0 : pool.Free() > 0;
    const bool needs_stock = !(protected_now && inst->holds_slot);
    if (needs_stock && !stock) {
      return CloudError(StatusCode::kResourceExhausted, kAliNoStock,
                        "cannot start " + r.id + ": no stock in " + pool.id + " (" +
                            std::to_string(pool.spot_running) + " of " +
                            std::to_string(pool.capacity) + " in use)");
    }
    const bool had_slot = inst->holds_slot;
    if (!had_slot) {
      LASTCALL_RETURN_IF_ERROR(market_.AcquireSpotSlot(*inst));  // checked: Free() > 0
    }
    UpdateIndex(r);
    // After KeepCharging the slot holder stayed indexed (armed while triggered); after
    // StopCharging its grid starts again here, at a point now or later, like a new instance.
    if (!had_slot && !r.next_check) ScheduleCheck(r, NextGridPoint(r, now));
  }
  OpenCharge(r);  // no-op after KeepCharging: that period never closed
  market_.SetInstanceState(*inst, InstanceState::kRunning, cause_name,
                           "was StoppedMode=" + std::string(StoppedModeName(r.stopped_mode)));
  return Status::Ok();
}

Status AlibabaFlavor::DeleteInstance(std::string_view id, bool force, std::string_view cause_name) {
  Instance* inst = nullptr;
  Result<Record*> rec = Find(id, &inst);
  if (!rec.ok()) return rec.status();
  Record& r = **rec;
  if (!force && inst->state != InstanceState::kStopped) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is " + std::string(InstanceStateName(inst->state)) +
                          ": stop it first or release it with Force=true");
  }
  CancelCheck(r);
  if (r.termination_time) RemoveDue(*r.termination_time, kRelease, r);
  r.termination_time.reset();
  CloseCharge(r);
  market_.SetInstanceState(
      *inst, InstanceState::kTerminated, cause_name,
      force ? "Released: DeleteInstance Force=true" : "Released: DeleteInstance");
  UpdateIndex(r);
  return Status::Ok();
}

// --- Fault injection ------------------------------------------------------------------------

Status AlibabaFlavor::ForceRecycle(std::string_view id, std::string_view cause_name) {
  Instance* inst = nullptr;
  Result<Record*> rec = Find(id, &inst);
  if (!rec.ok()) return rec.status();
  Record& r = **rec;
  if (!r.spot()) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is pay-as-you-go (NoSpot): it is never recycled");
  }
  if (r.termination_time) {
    return CloudError(
        StatusCode::kFailedPrecondition, kAliIncorrectStatus,
        "instance " + r.id + " is already To Be Released at " + FormatRfc3339(*r.termination_time));
  }
  if (!inst->holds_slot) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is stopped with StopCharging: nothing to recycle");
  }
  Notice(r, *inst, cause_name, "forced notice");
  return Status::Ok();
}

}  // namespace lastcall::mock
