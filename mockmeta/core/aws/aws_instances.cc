// AwsFlavor: the user's instance actions. RunInstance (on-demand, or spot through a one-time
// request that launches now), Terminate / Stop / Start, scheduled events, the Auto Scaling target
// lifecycle state, forced interruptions and rebalance recommendations (like AWS FIS), and finding
// an instance by id or name.
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "common/time_format.h"
#include "mockmeta/core/aws/aws.h"
#include "mockmeta/core/aws/aws_internal.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

using aws_internal::Invalid;

namespace {

constexpr std::string_view kSpotMaxPriceTooLow = "SpotMaxPriceTooLow";
constexpr std::string_view kUnsupportedOperation = "UnsupportedOperation";
constexpr std::string_view kInvalidEventNotFound = "InvalidInstanceEventID.NotFound";

constexpr std::string_view kEventCodesList[] = {"instance-reboot", "system-reboot",
                                                "system-maintenance", "instance-retirement",
                                                "instance-stop"};
constexpr std::string_view kLifecycleStatesList[] = {
    "InService",         "Terminated",     "Detached",       "Standby",
    "Warmed:Hibernated", "Warmed:Running", "Warmed:Stopped", "Warmed:Terminated"};

std::string DefaultDescription(std::string_view code) {
  if (code == "instance-reboot") return "The instance is scheduled for a reboot";
  if (code == "system-reboot") return "The system is scheduled for a reboot";
  if (code == "system-maintenance") return "The system is scheduled for maintenance";
  if (code == "instance-retirement") return "The instance is scheduled for retirement";
  return "The instance is scheduled to be stopped";
}

// IncorrectInstanceState unless `inst` is in the state `want`.
Status RequireState(const Instance& inst, InstanceState want) {
  if (inst.state == want) return Status::Ok();
  return CloudError(StatusCode::kFailedPrecondition, kIncorrectInstanceState,
                    "instance " + inst.id + " is " + std::string(InstanceStateName(inst.state)) +
                        ", not " + std::string(InstanceStateName(want)));
}

}  // namespace

bool IsScheduledEventCode(std::string_view code) {
  return std::find(std::begin(kEventCodesList), std::end(kEventCodesList), code) !=
         std::end(kEventCodesList);
}

bool IsTargetLifecycleState(std::string_view state) {
  return std::find(std::begin(kLifecycleStatesList), std::end(kLifecycleStatesList), state) !=
         std::end(kLifecycleStatesList);
}

// --- Instances ---------------------------------------------------------------------------------

Result<std::string> AwsFlavor::RunInstance(const RunInstanceSpec& spec, std::string_view cause) {
  const InstanceType* type = market_.catalog().FindType(spec.instance_type);
  if (!type) return Invalid("InstanceType: unknown instance type \"" + spec.instance_type + "\"");
  if (spec.zone.empty() || !market_.catalog().FindZone(spec.zone)) {
    return Invalid("Placement.AvailabilityZone: unknown zone \"" + spec.zone + "\"");
  }
  if (!spec.spot) {
    Instance inst;
    inst.flavor = FlavorKind::kAws;
    inst.type = spec.instance_type;
    inst.zone = spec.zone;
    inst.spot = false;
    inst.state = InstanceState::kRunning;
    inst.name = spec.name;
    inst.settings = spec.settings;
    Result<Instance*> added = market_.AddInstance(inst, false, cause, "on-demand");
    if (!added.ok()) return added.status();
    AwsInstance& ai = instances_[(*added)->id];
    ai.inst = *added;  // on-demand: no pool index (no slot, never interrupted by the market)
    ai.runs.push_back({market_.now(), std::nullopt, false});
    return (*added)->id;
  }
  SpotRequestSpec s;
  s.instance_type = spec.instance_type;
  s.zone = spec.zone;
  s.max_price = spec.max_price;
  s.type = spec.spot_type;
  s.interruption_behavior = spec.interruption_behavior;
  s.name = spec.name;
  s.settings = spec.settings;
  LASTCALL_RETURN_IF_ERROR(ValidateSpec(s));
  const Pool* pool = market_.catalog().FindPool(PoolId(spec.instance_type, spec.zone));
  if (!pool) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      "no spot pool for " + PoolId(spec.instance_type, spec.zone));
  }
  const double max = spec.max_price ? *spec.max_price : type->on_demand_price;
  if (pool->price > max) {
    return CloudError(StatusCode::kFailedPrecondition, kSpotMaxPriceTooLow,
                      "your max price " + FormatPrice(max) + " is below the spot price " +
                          FormatPrice(pool->price) + " of " + pool->id);
  }
  if (pool->Free() <= 0) {
    return CloudError(StatusCode::kResourceExhausted, kInsufficientCapacity,
                      "no spot capacity left in " + pool->id);
  }
  // Checked: the request launches now, at this pool.
  Result<std::vector<std::string>> ids = RequestSpotInstances(s, cause);
  if (!ids.ok()) return ids.status();
  SpotRequest& r = requests_.find(ids->front())->second;
  LASTCALL_RETURN_IF_ERROR(Launch(r, pool->index, cause));
  return r.instance_id;
}

Result<std::pair<Instance*, AwsFlavor::AwsInstance*>> AwsFlavor::Find(std::string_view id) {
  Instance* inst = market_.FindInstance(id);
  auto it = instances_.find(id);
  if (!inst || it == instances_.end()) {
    return CloudError(StatusCode::kNotFound, kInvalidInstanceIdNotFound,
                      "the instance ID '" + std::string(id) + "' does not exist");
  }
  return std::pair{inst, &it->second};
}

Result<std::pair<const Instance*, const AwsFlavor::AwsInstance*>> AwsFlavor::Find(
    std::string_view id) const {
  const Instance* inst = market_.FindInstance(id);
  auto it = instances_.find(id);
  if (!inst || it == instances_.end()) {
    return CloudError(StatusCode::kNotFound, kInvalidInstanceIdNotFound,
                      "the instance ID '" + std::string(id) + "' does not exist");
  }
  return std::pair{inst, &it->second};
}

const Instance* AwsFlavor::FindInstanceByName(std::string_view name) const {
  const Instance* best = nullptr;
  for (const auto& [id, ai] : instances_) {
    const Instance* inst = market_.FindInstance(id);
    if (!inst || inst->name != name) continue;
    if (!best || inst->launch_time > best->launch_time ||
        (inst->launch_time == best->launch_time && inst->id > best->id))
      best = inst;
  }
  return best;
}

Status AwsFlavor::TerminateInstance(std::string_view id, std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  if (inst->state == InstanceState::kTerminated) return Status::Ok();  // EC2: idempotent
  EndInstance(*inst, *ai, "instance-terminated-by-user", cause, false);
  return Status::Ok();
}

Status AwsFlavor::StopInstance(std::string_view id, std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  if (inst->state == InstanceState::kStopped) return Status::Ok();
  LASTCALL_RETURN_IF_ERROR(RequireState(*inst, InstanceState::kRunning));
  SpotRequest* r = RequestOf(*ai);
  if (inst->spot && (!r || r->spec.type != SpotRequestType::kPersistent)) {
    return CloudError(
        StatusCode::kFailedPrecondition, kUnsupportedOperation,
        "instance " + inst->id + " is a spot instance of a one-time request and cannot be stopped");
  }
  if (inst->spot && ai->block) {
    return CloudError(StatusCode::kFailedPrecondition, kUnsupportedOperation,
                      "instance " + inst->id + " is a spot block and cannot be stopped");
  }
  CloseRun(*ai, false);
  ClearNotice(*inst, *ai);
  market_.ReleaseSpotSlot(*inst);
  market_.SetInstanceState(*inst, InstanceState::kStopped, cause, "instance-stopped-by-user");
  if (r) {
    SetRequest(*r,
               r->state == spot_state::kCancelled ? spot_state::kCancelled : spot_state::kDisabled,
               "instance-stopped-by-user", cause, "instance " + inst->id);
  }
  return Status::Ok();
}

Status AwsFlavor::StartInstance(std::string_view id, std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  if (inst->state == InstanceState::kRunning) return Status::Ok();
  LASTCALL_RETURN_IF_ERROR(RequireState(*inst, InstanceState::kStopped));
  SpotRequest* r = RequestOf(*ai);
  if (inst->spot) {
    const Pool& pool = market_.catalog().pool(inst->pool);
    if (pool.price > ai->max_price) {
      return CloudError(StatusCode::kFailedPrecondition, kSpotMaxPriceTooLow,
                        "max price " + FormatPrice(ai->max_price) + " is below the spot price " +
                            FormatPrice(pool.price) + " of " + pool.id);
    }
    LASTCALL_RETURN_IF_ERROR(market_.AcquireSpotSlot(*inst));
  }
  ai->rebalance.reset();
  market_.SetInstanceState(*inst, InstanceState::kRunning, cause);
  ai->runs.push_back({market_.now(), std::nullopt, false});
  if (r && r->state != spot_state::kCancelled) {
    SetRequest(*r, spot_state::kActive, "fulfilled", cause, "instance " + inst->id);
  }
  return Status::Ok();
}

// --- Injectable per instance ---------------------------------------------------------------------

SpotRequest* AwsFlavor::RequestOf(const AwsInstance& ai) {
  auto it = requests_.find(ai.request_id);
  return it == requests_.end() ? nullptr : &it->second;
}

ScheduledEvent* AwsFlavor::FindEvent(AwsInstance& ai, std::string_view event_id) {
  for (ScheduledEvent& e : ai.events) {
    if (e.event_id == event_id) return &e;
  }
  return nullptr;
}

Result<std::string> AwsFlavor::CreateScheduledEvent(std::string_view instance_id,
                                                    const ScheduledEventSpec& spec,
                                                    std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  if (!IsScheduledEventCode(spec.code)) {
    return Invalid("Code \"" + spec.code +
                   "\" must be one of instance-reboot, system-reboot, system-maintenance, "
                   "instance-retirement, instance-stop");
  }
  if (spec.not_after && *spec.not_after <= spec.not_before) {
    return Invalid("NotAfter " + FormatRfc3339(*spec.not_after) + " must be after NotBefore " +
                   FormatRfc3339(spec.not_before));
  }
  if (inst->state == InstanceState::kTerminated) {
    return CloudError(StatusCode::kFailedPrecondition, kIncorrectInstanceState,
                      "instance " + inst->id + " is terminated");
  }
  ScheduledEvent e;
  e.code = spec.code;
  e.description = spec.description.empty() ? DefaultDescription(spec.code) : spec.description;
  e.event_id = market_.NewId("instance-event-", 17, true);
  e.not_before = spec.not_before;
  e.not_after = spec.not_after;
  e.not_before_deadline = spec.not_before_deadline;
  e.state = "active";
  ai->events.push_back(e);
  market_.Log(kind::kInstance, inst->id, "", "scheduled-event:" + e.code + ":active", cause,
              e.event_id + " NotBefore " + FormatRfc3339(e.not_before));
  return e.event_id;
}

Status AwsFlavor::CancelScheduledEvent(std::string_view instance_id, std::string_view event_id,
                                       std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  ScheduledEvent* e = FindEvent(*f->second, event_id);
  if (!e) {
    return CloudError(StatusCode::kNotFound, kInvalidEventNotFound,
                      "no event " + std::string(event_id) + " on " + std::string(instance_id));
  }
  if (e->state != "active") {
    return CloudError(StatusCode::kFailedPrecondition, "InvalidState",
                      "event " + e->event_id + " is " + e->state + ", not active");
  }
  e->state = "canceled";
  e->description = "[Canceled] " + e->description;
  market_.Log(kind::kInstance, f->first->id, "scheduled-event:" + e->code + ":active",
              "scheduled-event:" + e->code + ":canceled", cause, e->event_id);
  return Status::Ok();
}

Status AwsFlavor::CompleteScheduledEvent(std::string_view instance_id, std::string_view event_id,
                                         std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  ScheduledEvent* e = FindEvent(*ai, event_id);
  if (!e) {
    return CloudError(StatusCode::kNotFound, kInvalidEventNotFound,
                      "no event " + std::string(event_id) + " on " + std::string(instance_id));
  }
  if (e->state != "active") {
    return CloudError(StatusCode::kFailedPrecondition, "InvalidState",
                      "event " + e->event_id + " is " + e->state + ", not active");
  }
  e->state = "completed";
  e->description = "[Completed] " + e->description;
  const std::string code = e->code;
  market_.Log(kind::kInstance, inst->id, "scheduled-event:" + code + ":active",
              "scheduled-event:" + code + ":completed", cause, e->event_id);
  if (code == "instance-retirement" && inst->state != InstanceState::kTerminated) {
    EndInstance(*inst, *ai, "instance-terminated-by-service", cause::kService, false);
  }
  return Status::Ok();
}

Status AwsFlavor::SetTargetLifecycleState(std::string_view instance_id, std::string_view state,
                                          std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  if (!IsTargetLifecycleState(state)) {
    return Invalid("target lifecycle state \"" + std::string(state) +
                   "\" must be one of InService, Terminated, Detached, Standby, "
                   "Warmed:Hibernated, Warmed:Running, Warmed:Stopped, Warmed:Terminated");
  }
  auto [inst, ai] = *f;
  const std::string old = ai->lifecycle.value_or("");
  ai->lifecycle = std::string(state);
  market_.Log(kind::kInstance, inst->id, old.empty() ? "" : "lifecycle:" + old,
              "lifecycle:" + std::string(state), cause);
  return Status::Ok();
}

Status AwsFlavor::ForceInterruption(std::string_view instance_id, InterruptionBehavior action,
                                    Duration lead, std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  if (!inst->spot) {
    return CloudError(StatusCode::kFailedPrecondition, kUnsupportedOperation,
                      "instance " + inst->id + " is not a spot instance");
  }
  LASTCALL_RETURN_IF_ERROR(RequireState(*inst, InstanceState::kRunning));
  if (lead < Duration(0) || lead > std::chrono::hours(6)) {
    return Invalid("lead time " + FormatDuration(lead) + " must be between 0s and 6h");
  }
  const SpotRequest* r = RequestOf(*ai);
  if (action != InterruptionBehavior::kTerminate &&
      (!r || r->spec.type != SpotRequestType::kPersistent || ai->block)) {
    return Invalid("action " + std::string(InterruptionBehaviorName(action)) +
                   " needs an instance of a persistent spot request");
  }
  if (ai->action) ClearNotice(*inst, *ai);  // the forced notice replaces a pending one
  Mark(*inst, *ai, "instance-terminated-no-capacity", cause,
       std::string(InterruptionBehaviorName(action)), lead, true);
  return Status::Ok();
}

Status AwsFlavor::ForceRebalance(std::string_view instance_id, std::string_view cause) {
  Result<std::pair<Instance*, AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  if (!inst->spot || inst->state != InstanceState::kRunning) {
    return CloudError(StatusCode::kFailedPrecondition, kIncorrectInstanceState,
                      "instance " + inst->id + " is not a running spot instance");
  }
  SetRebalance(*inst, *ai, cause, "forced");
  return Status::Ok();
}

}  // namespace lastcall::mock
