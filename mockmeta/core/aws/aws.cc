// AwsFlavor's loop: the engine hooks (NextDue, RunDue, OnPoolChanged, FillMetadata), the
// evaluation at each due instant (expiry, price and capacity interruptions, rebalance
// recommendations, restarting disabled requests, the next grid point), and the notices and
// their actions (instance-action, spot block ends, ending and stopping instances). Open requests
// are placed and launched in aws_launch.cc, requests kept in aws_requests.cc, the user's
// instance actions are in aws_instances.cc and billing in aws_billing.cc.
#include "mockmeta/core/aws/aws.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

namespace {

// instance-terminated-by-price -> instance-stopped-by-price (same reason, stop action).
std::string StoppedStatus(std::string_view terminated_status) {
  std::string s(terminated_status);
  const std::string from = "terminated";
  if (size_t p = s.find(from); p != std::string::npos) s.replace(p, from.size(), "stopped");
  return s;
}

bool MarketStatus(std::string_view status) {
  return status == "instance-stopped-by-price" || status == "instance-stopped-no-capacity";
}

}  // namespace

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

}  // namespace lastcall::mock
