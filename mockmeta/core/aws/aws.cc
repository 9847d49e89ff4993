#include "mockmeta/core/aws/aws.h"

#include <algorithm>
#include <cmath>

#include "common/time_format.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

namespace {

constexpr std::string_view kInvalidRequestNotFound = "InvalidSpotInstanceRequestID.NotFound";
constexpr std::string_view kSpotMaxPriceTooLow = "SpotMaxPriceTooLow";
constexpr std::string_view kUnsupportedOperation = "UnsupportedOperation";
constexpr std::string_view kInvalidEventNotFound = "InvalidInstanceEventID.NotFound";

constexpr std::string_view kEventCodesList[] = {"instance-reboot", "system-reboot",
                                                "system-maintenance", "instance-retirement",
                                                "instance-stop"};
constexpr std::string_view kLifecycleStatesList[] = {
    "InService",         "Terminated",     "Detached",       "Standby",
    "Warmed:Hibernated", "Warmed:Running", "Warmed:Stopped", "Warmed:Terminated"};

Status Invalid(const std::string& message) {
  return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue, message);
}

std::string Pair(std::string_view state, std::string_view status) {
  return std::string(state) + "/" + std::string(status);
}

// instance-terminated-by-price -> instance-stopped-by-price (same reason, stop action).
std::string StoppedStatus(std::string_view terminated_status) {
  std::string s(terminated_status);
  const std::string from = "terminated";
  if (size_t p = s.find(from); p != std::string::npos) s.replace(p, from.size(), "stopped");
  return s;
}

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

bool MarketStatus(std::string_view status) {
  return status == "instance-stopped-by-price" || status == "instance-stopped-no-capacity";
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

bool IsScheduledEventCode(std::string_view code) {
  return std::find(std::begin(kEventCodesList), std::end(kEventCodesList), code) !=
         std::end(kEventCodesList);
}

bool IsTargetLifecycleState(std::string_view state) {
  return std::find(std::begin(kLifecycleStatesList), std::end(kLifecycleStatesList), state) !=
         std::end(kLifecycleStatesList);
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

// --- Engine hooks ------------------------------------------------------------------------------

std::optional<WallTime> AwsFlavor::NextDue() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

void AwsFlavor::RunDue(WallTime now) {
  // One item at a time: handling one may add more at `now` (a freed slot asks for an
  // evaluation), which this loop then also runs. Keys sort "act:" < "block:" < "eval", so the
  // instant's interruptions and block ends happen before open requests are looked at.
  while (!due_.empty() && due_.begin()->first <= now) {
    const std::string key = due_.begin()->second;
    due_.erase(due_.begin());
    if (key.rfind("act:", 0) == 0) {
      RunAction(key.substr(4));
    } else if (key.rfind("block:", 0) == 0) {
      BlockNotice(key.substr(6));
    } else {
      Evaluate(now);
    }
  }
}

void AwsFlavor::OnPoolChanged(const Pool& /*pool*/, PoolChange /*what*/, WallTime now) {
  if (requests_.empty() && instances_.empty()) return;
  Due(now, "eval");
}

void AwsFlavor::FillMetadata(const Instance& instance, MetadataView& view) const {
  auto it = instances_.find(instance.id);
  if (it == instances_.end()) return;
  const AwsInstance& ai = it->second;
  view.spot_request_id = ai.request_id;
  if (ai.action) {
    view.instance_action = ai.action;
    if (ai.action->action == "terminate") view.termination_time = ai.action->time;
  }
  view.rebalance_notice_time = ai.rebalance;
  view.scheduled_events = ai.events;
  view.target_lifecycle_state = ai.lifecycle;
}

// --- Evaluation --------------------------------------------------------------------------------

AwsFlavor::PoolInstances* AwsFlavor::IndexOf(int pool) {
  if (pool < 0) return nullptr;
  if (static_cast<size_t>(pool) >= by_pool_.size()) by_pool_.resize(static_cast<size_t>(pool) + 1);
  return &by_pool_[static_cast<size_t>(pool)];
}

const AwsFlavor::PoolInstances* AwsFlavor::IndexOf(int pool) const {
  if (pool < 0 || static_cast<size_t>(pool) >= by_pool_.size()) return nullptr;
  return &by_pool_[static_cast<size_t>(pool)];
}

namespace {
// Instances found by per-pool scans, put in the id order of a scan over every instance.
template <typename T>
void SortById(std::vector<T*>& v) {
  std::sort(v.begin(), v.end(), [](const T* a, const T* b) { return a->inst->id < b->inst->id; });
}
}  // namespace

void AwsFlavor::Evaluate(WallTime now) {
  // Expiry first: a request past ValidUntil must not launch at that instant. (A copy: the
  // cancellation leaves waiting_.)
  std::vector<SpotRequest*> expired;
  for (auto& [id, r] : waiting_) {
    if (r->state == spot_state::kOpen && r->spec.valid_until && now >= *r->spec.valid_until) {
      expired.push_back(r);
    }
  }
  for (SpotRequest* r : expired) {
    SetRequest(*r, spot_state::kCancelled, "schedule-expired", cause::kExpiry,
               "ValidUntil " + FormatRfc3339(*r->spec.valid_until));
  }
  CheckInterruptions();
  CheckRebalance();
  RestartDisabled();
  EvaluateOpen();
  ScheduleNextEvaluation(now);
}

void AwsFlavor::ScheduleNextEvaluation(WallTime now) {
  bool waiting = false;
  for (const auto& [id, r] : waiting_) {
    if (r->state == spot_state::kOpen ||
        (r->state == spot_state::kDisabled && MarketStatus(r->status_code))) {
      waiting = true;
      break;
    }
  }
  if (!waiting) return;
  // The next grid point strictly after now: start + k * period.
  const auto since = now - market_.start();
  const auto k = since / kEvaluationPeriod + 1;
  Due(market_.start() + k * kEvaluationPeriod, "eval");
}

void AwsFlavor::CheckInterruptions() {
  // Price: every running, unmarked spot instance (not a block) whose max price is now below
  // the spot price.
  std::vector<AwsInstance*> over;
  for (const Pool& pool : market_.catalog().pools()) {
    const PoolInstances* index = IndexOf(pool.index);
    if (!index) continue;
    for (const auto& [max_price, ai] : *index) {
      if (!(pool.price > max_price)) break;  // by max price: the rest are not below the price
      over.push_back(ai);
    }
  }
  SortById(over);
  for (AwsInstance* live : over) {
    AwsInstance& ai = *live;
    Instance* inst = ai.inst;
    if (!inst || !inst->spot || inst->state != InstanceState::kRunning || ai.action || ai.block)
      continue;
    const Pool& pool = market_.catalog().pool(inst->pool);
    if (pool.price > ai.max_price) {
      Mark(*inst, ai, "instance-terminated-by-price", cause::kPrice,
           std::string(InterruptionBehaviorName(ai.behavior)), kNoticeLead, true);
    }
  }
  // Capacity: a pool short of stock loses as many unmarked AWS instances as it is short, minus
  // those already on their way out. Lowest max price first, then the newest, then by id;
  // spot blocks last (they are interrupted for capacity only in rare situations).
  for (const Pool& pool : market_.catalog().pools()) {
    if (pool.Shortage() <= 0) continue;
    std::vector<std::pair<Instance*, AwsInstance*>> candidates;
    const PoolInstances* index = IndexOf(pool.index);
    if (!index) continue;
    for (const auto& [max_price, live] : *index) {
      AwsInstance& ai = *live;
      Instance* inst = ai.inst;
      if (!inst || inst->pool != pool.index || !inst->holds_slot) continue;
      if (!ai.action && inst->state == InstanceState::kRunning) candidates.push_back({inst, &ai});
    }
    // Instances already on their way out (ours with an instance-action, another flavor's with
    // its own notice) free their slots too.
    int need = pool.Shortage() - market_.PendingReleases(pool.index);
    if (need <= 0) continue;
    std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      if (a.second->block != b.second->block) return !a.second->block;
      if (a.second->max_price != b.second->max_price)
        return a.second->max_price < b.second->max_price;
      if (a.first->launch_time != b.first->launch_time)
        return a.first->launch_time > b.first->launch_time;
      return a.first->id < b.first->id;
    });
    for (auto& [inst, ai] : candidates) {
      if (need <= 0) break;
      if (ai->action) continue;  // marked meanwhile as a launch-group mate
      Mark(*inst, *ai, "instance-terminated-no-capacity", cause::kCapacity,
           std::string(InterruptionBehaviorName(ai->behavior)), kNoticeLead, true);
      --need;
    }
  }
}

int AwsFlavor::PendingReleases(int pool) const {
  int n = 0;
  const PoolInstances* index = IndexOf(pool);
  if (!index) return 0;
  for (const auto& [max_price, ai] : *index) {
    if (ai->action && ai->inst && ai->inst->pool == pool && ai->inst->holds_slot) ++n;
  }
  return n;
}

void AwsFlavor::CheckRebalance() {
  // Who may get one: a pool at the utilisation mark offers all its instances, otherwise the max
  // prices the price is near (kRebalancePriceShare * max <= price, a prefix by max price).
  std::vector<AwsInstance*> near;
  for (const Pool& pool : market_.catalog().pools()) {
    const PoolInstances* index = IndexOf(pool.index);
    if (!index) continue;
    const bool full = pool.Utilisation() >= kRebalanceUtilisation;
    for (const auto& [max_price, ai] : *index) {
      if (!full && !(pool.price >= kRebalancePriceShare * max_price)) break;
      if (!ai->rebalance) near.push_back(ai);
    }
  }
  SortById(near);
  for (AwsInstance* live : near) {
    AwsInstance& ai = *live;
    if (ai.rebalance || ai.request_id.empty()) continue;
    Instance* inst = ai.inst;
    if (!inst || inst->state != InstanceState::kRunning) continue;
    const Pool& pool = market_.catalog().pool(inst->pool);
    if (!ai.block && pool.price >= kRebalancePriceShare * ai.max_price) {
      SetRebalance(
          *inst, ai, cause::kPrice,
          "price " + FormatPrice(pool.price) + " near max price " + FormatPrice(ai.max_price));
    } else if (pool.Utilisation() >= kRebalanceUtilisation) {
      SetRebalance(*inst, ai, cause::kCapacity,
                   "pool " + pool.id + " " + std::to_string(pool.spot_running) + " of " +
                       std::to_string(pool.capacity) + " in use");
    }
  }
}

void AwsFlavor::RestartDisabled() {
  std::vector<SpotRequest*> disabled;
  for (auto& [id, r] : waiting_) {
    if (r->state == spot_state::kDisabled && MarketStatus(r->status_code)) disabled.push_back(r);
  }
  std::sort(disabled.begin(), disabled.end(),
            [](const SpotRequest* a, const SpotRequest* b) { return a->seq < b->seq; });
  for (SpotRequest* r : disabled) {
    Instance* inst = market_.FindInstance(r->instance_id);
    if (!inst || inst->state != InstanceState::kStopped) continue;
    const Pool& pool = market_.catalog().pool(inst->pool);
    AwsInstance& ai = instances_[inst->id];
    if (market_.now() < ai.stopped_at + kEvaluationPeriod) continue;
    if (pool.price > r->max_price || pool.Free() <= 0) continue;
    if (!market_.AcquireSpotSlot(*inst).ok()) continue;
    ClearNotice(*inst, ai);
    ai.rebalance.reset();
    market_.SetInstanceState(*inst, InstanceState::kRunning, cause::kMarket,
                             "restarted: price " + FormatPrice(pool.price) + " <= max " +
                                 FormatPrice(r->max_price) + " and capacity available");
    ai.runs.push_back({market_.now(), std::nullopt, false});
    SetRequest(*r, spot_state::kActive, "fulfilled", cause::kMarket, "instance " + inst->id);
  }
}

std::string AwsFlavor::AzGroupZone(const SpotRequest& r) const {
  if (r.spec.availability_zone_group.empty()) return "";
  const SpotRequest* first = nullptr;
  for (const auto& [id, o] : requests_) {
    if (o.spec.availability_zone_group == r.spec.availability_zone_group &&
        !o.launched_zone.empty() && (!first || o.seq < first->seq))
      first = &o;
  }
  return first ? first->launched_zone : "";
}

int AwsFlavor::ChoosePool(const SpotRequest& r, const std::map<int, int>& promised,
                          std::string* why) const {
  const std::string az = AzGroupZone(r);
  int best = -1;
  bool price_ok_somewhere = false;
  bool outside_az_group = false;
  for (const Pool& p : market_.catalog().pools()) {
    if (p.type != r.spec.instance_type) continue;
    if (!r.spec.zone.empty() && p.zone != r.spec.zone) continue;
    if (p.price > r.max_price) continue;
    auto it = promised.find(p.index);
    const int free = p.Free() - (it == promised.end() ? 0 : it->second);
    if (!az.empty() && p.zone != az) {
      outside_az_group |= free > 0;
      continue;
    }
    price_ok_somewhere = true;
    if (free <= 0) continue;
    if (best < 0 || p.price < market_.catalog().pool(best).price) best = p.index;
  }
  if (best < 0 && why) {
    *why = outside_az_group     ? "az-group-constraint"
           : price_ok_somewhere ? "capacity-not-available"
                                : "price-too-low";
  }
  return best;
}

void AwsFlavor::EvaluateOpen() {
  const WallTime now = market_.now();
  std::vector<SpotRequest*> open;
  for (auto& [id, r] : waiting_) {
    if (r->state == spot_state::kOpen) open.push_back(r);
  }
  std::sort(open.begin(), open.end(),
            [](const SpotRequest* a, const SpotRequest* b) { return a->seq < b->seq; });
  std::set<std::string> groups_done;
  for (SpotRequest* r : open) {
    if (r->state != spot_state::kOpen) continue;  // launched with its group this pass
    if (r->spec.valid_from && now < *r->spec.valid_from) {
      SetRequest(*r, spot_state::kOpen, "not-scheduled-yet", cause::kSchedule,
                 "ValidFrom " + FormatRfc3339(*r->spec.valid_from));
      continue;
    }
    if (r->spec.launch_group.empty()) {
      EvaluateAlone(*r);
    } else if (groups_done.insert(r->spec.launch_group).second) {
      EvaluateLaunchGroup(open, r->spec.launch_group);
    }
  }
}

void AwsFlavor::EvaluateAlone(SpotRequest& r) {
  std::string why;
  const int pool = ChoosePool(r, {}, &why);
  if (pool >= 0) {
    (void)Launch(r, pool, cause::kMarket);
    return;
  }
  SetRequest(r, spot_state::kOpen, why, why == "price-too-low" ? cause::kPrice : cause::kCapacity,
             why == "az-group-constraint"
                 ? "AvailabilityZoneGroup \"" + r.spec.availability_zone_group + "\" is bound to " +
                       AzGroupZone(r)
                 : std::string());
}

// Launch group: every open, in-schedule member must fit at once, or none launches.
void AwsFlavor::EvaluateLaunchGroup(const std::vector<SpotRequest*>& open,
                                    const std::string& group) {
  const WallTime now = market_.now();
  std::vector<SpotRequest*> members;
  for (SpotRequest* m : open) {
    if (m->state == spot_state::kOpen && m->spec.launch_group == group &&
        !(m->spec.valid_from && now < *m->spec.valid_from)) {
      members.push_back(m);
    }
  }
  if (members.empty()) return;
  std::map<int, int> promised;
  std::vector<int> chosen;
  std::vector<std::string> whys(members.size());
  bool all = true;
  for (size_t i = 0; i < members.size(); ++i) {
    const int pool = ChoosePool(*members[i], promised, &whys[i]);
    chosen.push_back(pool);
    if (pool < 0) {
      all = false;
    } else {
      ++promised[pool];
    }
  }
  if (!all) {
    ExplainLaunchGroupWait(members, members.front()->spec, group);
    return;
  }
  for (size_t i = 0; i < members.size(); ++i) {
    (void)Launch(*members[i], chosen[i], cause::kMarket);
  }
}

// A group larger than every pool it may use could ever hold is not fulfillable as it stands; a
// member that cannot launch even alone says why; the others wait for the group.
void AwsFlavor::ExplainLaunchGroupWait(const std::vector<SpotRequest*>& members,
                                       const SpotRequestSpec& spec, const std::string& group) {
  int total_capacity = 0;
  for (const Pool& p : market_.catalog().pools()) {
    if (p.type == spec.instance_type && (spec.zone.empty() || p.zone == spec.zone))
      total_capacity += p.capacity;
  }
  const bool unfulfillable = static_cast<int>(members.size()) > total_capacity;
  const std::string what =
      "launch group \"" + group + "\" (" + std::to_string(members.size()) + " requests)";
  for (SpotRequest* m : members) {
    std::string why;
    const bool alone = ChoosePool(*m, {}, &why) >= 0;
    if (unfulfillable) {
      SetRequest(*m, spot_state::kOpen, "constraint-not-fulfillable", cause::kCapacity,
                 what + " exceeds total capacity " + std::to_string(total_capacity));
    } else if (alone) {
      SetRequest(*m, spot_state::kOpen, "launch-group-constraint", cause::kCapacity,
                 what + " cannot launch together");
    } else {
      SetRequest(*m, spot_state::kOpen, why,
                 why == "price-too-low" ? cause::kPrice : cause::kCapacity, what);
    }
  }
}

Status AwsFlavor::Launch(SpotRequest& r, int pool_index, std::string_view cause) {
  const Pool& pool = market_.catalog().pool(pool_index);
  SetRequest(r, spot_state::kOpen, "pending-fulfillment", cause, pool.id);
  Instance inst;
  inst.flavor = FlavorKind::kAws;
  inst.type = pool.type;
  inst.zone = pool.zone;
  inst.spot = true;
  inst.state = InstanceState::kRunning;
  inst.name = r.spec.name;
  inst.settings = r.spec.settings;
  Result<Instance*> added = market_.AddInstance(
      inst, true, cause, "spot request " + r.id + " at " + FormatPrice(pool.price));
  if (!added.ok()) {
    // Cannot happen with a pool chosen for its free capacity; reported as EC2 would.
    SetRequest(r, spot_state::kClosed, "system-error", cause::kService,
               CloudErrorText(added.status()));
    return added.status();
  }
  Instance& launched = **added;
  AwsInstance& ai = instances_[launched.id];
  ai.inst = &launched;
  ai.request_id = r.id;
  ai.max_price = r.max_price;
  IndexOf(pool_index)->insert({ai.max_price, &ai});
  ai.behavior = r.spec.interruption_behavior;
  ai.runs.push_back({market_.now(), std::nullopt, false});
  r.instance_id = launched.id;
  r.launched_zone = pool.zone;
  if (r.spec.block_duration_minutes > 0) {
    ai.block = true;
    ai.block_price = pool.price;
    ai.block_end = market_.now() + std::chrono::minutes(r.spec.block_duration_minutes);
    r.block_hourly_price = pool.price;
    Due(ai.block_end - kNoticeLead, "block:" + launched.id);
  }
  SetRequest(r, spot_state::kActive, "fulfilled", cause, "instance " + launched.id);
  return Status::Ok();
}

// --- Notices and their actions -------------------------------------------------------------------

void AwsFlavor::SetRebalance(Instance& inst, AwsInstance& ai, std::string_view cause,
                             std::string_view detail) {
  ai.rebalance = market_.now();
  market_.Log(kind::kInstance, inst.id, "running", "rebalance-recommendation", cause, detail);
}

void AwsFlavor::Mark(Instance& inst, AwsInstance& ai, std::string_view status,
                     std::string_view cause, const std::string& action, Duration lead,
                     bool with_rebalance) {
  if (with_rebalance && !ai.rebalance) {
    SetRebalance(inst, ai, cause, "together with the interruption notice");
  }
  const WallTime at = market_.now() + lead;
  ai.action = InstanceAction{action, at};
  ai.action_status = std::string(status);
  ai.action_cause = std::string(cause);
  market_.Log(kind::kInstance, inst.id, "running", "instance-action:" + action, cause,
              "at " + FormatRfc3339(at) + " (" + std::string(status) + ")");
  Due(at, "act:" + inst.id);
  if (auto it = requests_.find(ai.request_id); it != requests_.end()) {
    SpotRequest& r = it->second;
    if (r.state == spot_state::kActive) {
      SetRequest(r, spot_state::kActive,
                 action == "terminate" ? "marked-for-termination" : "marked-for-stop", cause,
                 std::string(status) + ", " + action + " at " + FormatRfc3339(at));
    }
    // A launch group is interrupted together (market interruptions only).
    if (!r.spec.launch_group.empty() &&
        (status == "instance-terminated-by-price" || status == "instance-terminated-no-capacity")) {
      for (auto& [mid, m] : requests_) {
        if (m.spec.launch_group != r.spec.launch_group || mid == r.id) continue;
        auto mi = instances_.find(m.instance_id);
        Instance* mate = market_.FindInstance(m.instance_id);
        if (mi == instances_.end() || !mate || mate->state != InstanceState::kRunning ||
            mi->second.action)
          continue;
        Mark(*mate, mi->second, status, cause,
             std::string(InterruptionBehaviorName(mi->second.behavior)), lead, with_rebalance);
      }
    }
  }
}

void AwsFlavor::BlockNotice(const std::string& id) {
  Instance* inst = market_.FindInstance(id);
  auto it = instances_.find(id);
  if (!inst || it == instances_.end() || inst->state != InstanceState::kRunning ||
      it->second.action)
    return;
  Mark(*inst, it->second, "instance-terminated-by-schedule", cause::kExpiry, "terminate",
       std::chrono::duration_cast<Duration>(it->second.block_end - market_.now()), false);
}

void AwsFlavor::RunAction(const std::string& id) {
  Instance* inst = market_.FindInstance(id);
  auto it = instances_.find(id);
  if (!inst || it == instances_.end() || !it->second.action) return;
  if (inst->state != InstanceState::kRunning) return;
  AwsInstance& ai = it->second;
  const std::string action = ai.action->action;
  const std::string status = ai.action_status;
  const std::string cause = ai.action_cause;
  const bool market = status != "instance-terminated-by-schedule";
  if (action == "terminate") {
    EndInstance(*inst, ai, status, cause, market);
  } else {
    StopByMarket(*inst, ai, StoppedStatus(status), cause, action == "hibernate");
  }
}

void AwsFlavor::ClearNotice(const Instance& inst, AwsInstance& ai) {
  if (ai.action) due_.erase({ai.action->time, "act:" + inst.id});
  ai.action.reset();
  ai.action_status.clear();
  ai.action_cause.clear();
}

void AwsFlavor::CloseRun(AwsInstance& ai, bool market) {
  if (ai.runs.empty() || ai.runs.back().to) return;
  Run& run = ai.runs.back();
  run.to = market_.now();
  if (!market) return;
  if (ai.block) {
    ai.provider_ended_block = true;
    ai.free_note = "spot block interrupted by the provider: not charged";
  } else if (*run.to - run.from <= std::chrono::hours(1)) {
    run.free = true;
    ai.free_note = "interrupted by the market within its first hour: not charged";
  }
}

void AwsFlavor::EndInstance(Instance& inst, AwsInstance& ai, std::string_view status,
                            std::string_view cause, bool market) {
  CloseRun(ai, market);
  ClearNotice(inst, ai);
  if (ai.block) due_.erase({ai.block_end - kNoticeLead, "block:" + inst.id});
  if (PoolInstances* index = IndexOf(inst.pool)) index->erase({ai.max_price, &ai});
  market_.SetInstanceState(inst, InstanceState::kTerminated, cause, status);
  if (auto it = requests_.find(ai.request_id); it != requests_.end()) {
    RequestAfterEnd(it->second, status, cause);
  }
}

void AwsFlavor::StopByMarket(Instance& inst, AwsInstance& ai, std::string_view status,
                             std::string_view cause, bool hibernate) {
  CloseRun(ai, true);
  ClearNotice(inst, ai);
  market_.ReleaseSpotSlot(inst);
  market_.SetInstanceState(inst, InstanceState::kStopped, cause,
                           std::string(status) + (hibernate ? " (hibernated)" : ""));
  ai.stopped_at = market_.now();
  Due(ai.stopped_at + kEvaluationPeriod, "eval");
  if (auto it = requests_.find(ai.request_id); it != requests_.end()) {
    SpotRequest& r = it->second;
    if (r.state == spot_state::kCancelled) {
      SetRequest(r, spot_state::kCancelled, status, cause);
    } else {
      SetRequest(r, spot_state::kDisabled, status, cause, "instance " + inst.id);
    }
  }
}

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

// --- Billing -----------------------------------------------------------------------------------

double AwsFlavor::Cost(const Instance& inst, const AwsInstance& ai, const Run& run,
                       WallTime to) const {
  const auto seconds =
      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(to - run.from).count());
  if (!inst.spot) {
    const InstanceType* t = market_.catalog().FindType(inst.type);
    return t ? t->on_demand_price * seconds / 3600.0 : 0.0;
  }
  if (ai.block) return ai.block_price * seconds / 3600.0;
  return market_.catalog().pool(inst.pool).SpotCost(run.from, to);
}

Result<AwsBill> AwsFlavor::Bill(std::string_view instance_id) const {
  Result<std::pair<const Instance*, const AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  AwsBill bill;
  for (const Run& run : ai->runs) {
    const WallTime to = run.to.value_or(market_.now());
    const long long secs = std::chrono::duration_cast<std::chrono::seconds>(to - run.from).count();
    if (run.free || ai->provider_ended_block) {
      bill.seconds_free += secs;
      continue;
    }
    bill.seconds_billed += secs;
    bill.usd += Cost(*inst, *ai, run, to);
  }
  bill.note = ai->free_note;
  return bill;
}

double AwsFlavor::AccountBill() const {
  double total = 0;
  for (const auto& [id, ai] : instances_) {
    Result<AwsBill> b = Bill(id);
    if (b.ok()) total += b->usd;
  }
  return total;
}

}  // namespace lastcall::mock
