#include "mockmeta/core/alibaba/alibaba.h"

#include <algorithm>
#include <cmath>

#include "common/time_format.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr Duration kCheckPeriod = minutes(5);
constexpr Duration kNoticeLead = minutes(5);
constexpr Duration kAdviceWindow = hours(24 * 30);
// Without protection the price is 10% lower (Alibaba's example: 0.152 x 0.9).
constexpr double kNoProtectionFactor = 0.9;

int64_t PriceUnits(double price) { return std::llround(price * 10000.0); }

double Seconds(WallTime a, WallTime b) { return std::chrono::duration<double>(b - a).count(); }

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

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

std::string_view InterruptRateBucket(double rate) {
  if (rate < 0.03) return "0-3%";
  if (rate < 0.05) return "3-5%";
  if (rate < 0.10) return "5-10%";
  return "10-100%";
}

AlibabaFlavor::AlibabaFlavor(Market& market)
    : market_(market), rng_(market.rng().Fork("alibaba")) {}

double AlibabaFlavor::MarketPrice(double pool_price, int spot_duration) {
  return spot_duration == 0 ? RoundPrice(pool_price * kNoProtectionFactor) : pool_price;
}

// --- Engine hooks ---------------------------------------------------------------------------

std::optional<WallTime> AlibabaFlavor::NextDue() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first.first;
}

void AlibabaFlavor::RunDue(WallTime now) {
  while (!due_.empty() && due_.begin()->first.first <= now) {
    auto node = due_.extract(due_.begin());
    const int what = node.key().second;
    std::vector<Record*>& bucket = node.mapped();
    auto by_id = [](const Record* a, const Record* b) { return a->id < b->id; };
    if (!std::is_sorted(bucket.begin(), bucket.end(), by_id)) {
      std::sort(bucket.begin(), bucket.end(), by_id);
    }
    const WallTime at = node.key().first;
    for (Record* r : bucket) {  // records_ owns them; buckets only point
      // An entry whose time moved on (cancelled while this bucket ran) is stale.
      if (what == kRelease) {
        if (r->termination_time == at) RunRelease(*r, now);
      } else if (r->next_check == at) {
        r->next_check.reset();
        RunCheck(*r, now);
      }
    }
  }
}

void AlibabaFlavor::OnPoolChanged(const Pool& pool, PoolChange what, WallTime now) {
  // Alibaba reacts to price and stock only at each instance's 5-minute recycling check, never
  // at the moment the market moves; a move only decides whose next grid point must be checked.
  // Usage changes never start a shortage (a slot is taken only when one is free), and a model
  // change moves the price only through a later kPrice.
  if (what != PoolChange::kPrice && what != PoolChange::kCapacity) return;
  if (pool.index < 0 || static_cast<size_t>(pool.index) >= pool_index_.size()) return;
  PoolIndex& px = pool_index_[static_cast<size_t>(pool.index)];
  const bool now_still_due = market_.FlavorsPendingAtNow();
  if (pool.Shortage() > 0) {
    // The ranking decides who goes; every slot holder past protection takes part.
    for (Record* r : px.candidates) Arm(*r, now, now_still_due);
    return;
  }
  if (what != PoolChange::kPrice) return;
  for (int duration = 0; duration < 2; ++duration) {
    const int64_t price = PriceUnits(MarketPrice(pool.price, duration));
    for (const auto& [limit, r] : px.by_limit[duration]) {
      if (limit >= price) break;  // ordered by bid: the rest are not below the price
      Arm(*r, now, now_still_due);
    }
  }
}

void AlibabaFlavor::FillMetadata(const Instance& instance, MetadataView& view) const {
  const Record* r = FindRecord(instance.id);
  if (!r) return;
  view.termination_time = r->termination_time;
  view.vpc_id = r->vpc_id;
  view.vswitch_id = r->vswitch_id;
  view.serial_number = r->serial_number;
}

// --- Recycling ------------------------------------------------------------------------------

WallTime AlibabaFlavor::NextGridPoint(const Record& r, WallTime t) {
  // Checks start once protection is over, and never at the creation instant itself.
  const WallTime first = r.created + std::max<Duration>(hours(r.spot_duration), kCheckPeriod);
  if (t <= first) return first;
  const auto periods = (t - first + kCheckPeriod - Duration(1)) / kCheckPeriod;
  return first + periods * kCheckPeriod;
}

void AlibabaFlavor::Arm(Record& r, WallTime now, bool now_still_due) {
  // An armed chain already sits on the next grid point not yet passed.
  if (r.next_check) return;
  ScheduleCheck(r, NextGridPoint(r, now_still_due ? now : now + Duration(1)));
}

bool AlibabaFlavor::Triggered(const Record& r) const {
  if (r.indexed != Record::Indexed::kCandidate) return false;
  const Pool& pool = market_.catalog().pool(r.pool);
  if (pool.Shortage() > 0) return true;
  return r.strategy == SpotStrategy::kSpotWithPriceLimit &&
         PriceUnits(InstanceMarketPrice(r)) > PriceUnits(r.limit);
}

void AlibabaFlavor::UpdateIndex(Record& r) {
  using Indexed = Record::Indexed;
  Indexed want = Indexed::kNo;
  if (r.spot() && r.pool >= 0 && r.inst && r.inst->state != InstanceState::kTerminated &&
      r.inst->holds_slot) {
    want = r.termination_time ? Indexed::kPending : Indexed::kCandidate;
  }
  if (want == r.indexed) return;
  if (pool_index_.size() <= static_cast<size_t>(r.pool)) {
    pool_index_.resize(std::max(market_.catalog().pools().size(), static_cast<size_t>(r.pool) + 1));
  }
  PoolIndex& px = pool_index_[static_cast<size_t>(r.pool)];
  const bool by_limit = r.strategy == SpotStrategy::kSpotWithPriceLimit;
  const std::pair<int64_t, Record*> limit_key{PriceUnits(r.limit), &r};
  if (r.indexed == Indexed::kCandidate) {
    px.candidates.erase(&r);
    if (by_limit) px.by_limit[r.spot_duration].erase(limit_key);
  } else if (r.indexed == Indexed::kPending) {
    px.pending.erase(&r);
  }
  if (want == Indexed::kCandidate) {
    px.candidates.insert(&r);
    if (by_limit) px.by_limit[r.spot_duration].insert(limit_key);
  } else if (want == Indexed::kPending) {
    px.pending.insert(&r);
  }
  r.indexed = want;
}

void AlibabaFlavor::ScheduleCheck(Record& r, WallTime at) {
  CancelCheck(r);
  r.next_check = at;
  AddDue(at, kCheck, r);
}

void AlibabaFlavor::AddDue(WallTime at, DueKind what, Record& r) { due_[{at, what}].push_back(&r); }

void AlibabaFlavor::RemoveDue(WallTime at, DueKind what, const Record& r) {
  auto it = due_.find({at, what});
  if (it == due_.end()) return;
  std::vector<Record*>& bucket = it->second;
  bucket.erase(std::remove(bucket.begin(), bucket.end(), &r), bucket.end());
  if (bucket.empty()) due_.erase(it);
}

void AlibabaFlavor::CancelCheck(Record& r) {
  if (r.next_check) RemoveDue(*r.next_check, kCheck, r);
  r.next_check.reset();
}

double AlibabaFlavor::InstanceMarketPrice(const Record& r) const {
  if (r.pool < 0) return r.on_demand;
  return MarketPrice(market_.catalog().pool(r.pool).price, r.spot_duration);
}

int64_t AlibabaFlavor::BidUnits(const Record& r) const {
  // SpotAsPriceGo bids the real-time market price (Alibaba's documentation), capped at
  // pay-as-you-go.
  if (r.strategy == SpotStrategy::kSpotAsPriceGo) {
    return PriceUnits(std::min(InstanceMarketPrice(r), r.on_demand));
  }
  return PriceUnits(r.limit);
}

void AlibabaFlavor::RunCheck(Record& r, WallTime now) {
  Instance* inst = r.inst;
  UpdateIndex(r);  // cheap; keeps the index right even if the Market changed the instance
  if (!inst || inst->state == InstanceState::kTerminated || r.termination_time) return;
  if (!inst->holds_slot) return;  // a StopCharging stop: StartInstance arms it again
  const Pool& pool = market_.catalog().pool(r.pool);
  // The grid goes on (on the creation-based grid) only while something can still recycle it;
  // a notice below cancels it again. Otherwise the next trigger arms it (OnPoolChanged).
  if (Triggered(r)) ScheduleCheck(r, NextGridPoint(r, now + Duration(1)));
  const double price = InstanceMarketPrice(r);
  if (r.strategy == SpotStrategy::kSpotWithPriceLimit && PriceUnits(price) > PriceUnits(r.limit)) {
    Notice(r, *inst, cause::kPrice,
           "market price " + FormatPrice(price) + " > bid " + FormatPrice(r.limit));
    return;
  }
  // Stock: how many slot holders must still go, after those already To Be Released.
  if (pool.Shortage() == 0) return;  // the common case: no need to look at the others
  Ranking& ranking = ShortageRanking(pool, now);
  // Its place counts only the victims not yet noticed at this instant, as a fresh ranking would.
  int place = 0;
  for (size_t i = 0; i < ranking.victims.size(); ++i) {
    if (ranking.noticed[i]) continue;
    ++place;
    if (ranking.victims[i] != &r) continue;
    Notice(r, *inst, cause::kCapacity,
           "stock shortage: " + std::to_string(pool.spot_running) + " running > capacity " +
               std::to_string(pool.capacity) + "; bid " +
               FormatPrice(static_cast<double>(BidUnits(r)) / 10000.0) + " is #" +
               std::to_string(place) + " in the recycling order (lowest bid first)");
    ranking.noticed[i] = true;
    ranking.log_size = market_.log().size();  // this notice keeps the ranking valid
    return;
  }
}

AlibabaFlavor::Ranking& AlibabaFlavor::ShortageRanking(const Pool& pool, WallTime now) {
  Ranking& ranking = rankings_[pool.index];
  if (ranking.valid && ranking.at == now && ranking.log_size == market_.log().size()) {
    return ranking;
  }
  // Every flavor's slot holders with a notice pending (ours To Be Released included).
  const int pending = market_.PendingReleases(pool.index);
  std::vector<const Record*> eligible;
  if (static_cast<size_t>(pool.index) < pool_index_.size()) {
    for (const Record* other : pool_index_[static_cast<size_t>(pool.index)].candidates) {
      if (!other->inst || !other->inst->holds_slot || other->termination_time) continue;
      if (other->inst->state == InstanceState::kTerminated) continue;
      if (now >= other->protection_end()) eligible.push_back(other);
    }
  }
  const int short_by = std::max(0, pool.Shortage() - pending);
  const size_t victims = std::min(eligible.size(), static_cast<size_t>(short_by));
  std::partial_sort(eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(victims),
                    eligible.end(), [this](const Record* a, const Record* b) {
                      const int64_t ba = BidUnits(*a), bb = BidUnits(*b);
                      if (ba != bb) return ba < bb;
                      if (a->tie_key != b->tie_key) return a->tie_key < b->tie_key;
                      return a->id < b->id;
                    });
  ranking.valid = true;
  ranking.at = now;
  ranking.log_size = market_.log().size();
  ranking.victims.assign(eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(victims));
  ranking.noticed.assign(ranking.victims.size(), false);
  return ranking;
}

int AlibabaFlavor::PendingReleases(int pool) const {
  if (pool < 0 || static_cast<size_t>(pool) >= pool_index_.size()) return 0;
  int n = 0;
  for (const Record* r : pool_index_[static_cast<size_t>(pool)].pending) {
    if (r->termination_time && r->inst && r->inst->holds_slot) ++n;
  }
  return n;
}

void AlibabaFlavor::Notice(Record& r, Instance& inst, std::string_view cause_name,
                           std::string_view detail) {
  CancelCheck(r);
  const WallTime at = market_.now() + kNoticeLead;
  r.termination_time = at;
  r.recycle_cause = cause_name;
  r.recycled = true;
  UpdateIndex(r);
  AddDue(at, kRelease, r);
  market_.Log(kind::kInstance, r.id, InstanceStateName(inst.state), "To Be Released", cause_name,
              "termination-time=" + FormatRfc3339(at) + " OperationLocks=Recycling; " +
                  std::string(detail));
}

void AlibabaFlavor::RunRelease(Record& r, WallTime /*now*/) {
  Instance* inst = r.inst;
  if (!inst || inst->state == InstanceState::kTerminated || !r.termination_time) return;
  const std::string cause_name = r.recycle_cause;
  r.termination_time.reset();
  if (r.behavior == SpotInterruptionBehavior::kStop) {
    // Recycled but kept: the compute is taken away, so it is stopped without charging.
    CloseCharge(r);
    r.stopped_mode = StoppedMode::kStopCharging;
    market_.ReleaseSpotSlot(*inst);
    const std::string detail = "recycled; SpotInterruptionBehavior=Stop StoppedMode=StopCharging";
    if (inst->state == InstanceState::kStopped) {
      market_.Log(kind::kInstance, r.id, "stopped", "stopped", cause_name, detail);
    } else {
      market_.SetInstanceState(*inst, InstanceState::kStopped, cause_name, detail);
    }
    UpdateIndex(r);
    return;
  }
  CloseCharge(r);
  market_.SetInstanceState(*inst, InstanceState::kTerminated, cause_name,
                           "Released: recycled at termination-time");
  UpdateIndex(r);
}

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
  if (r.termination_time) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is To Be Released (OperationLocks: Recycling)");
  }
  if (inst->state != InstanceState::kRunning) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is " + std::string(InstanceStateName(inst->state)) +
                          ", StopInstance needs Running");
  }
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
  if (r.termination_time) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is To Be Released (OperationLocks: Recycling)");
  }
  if (inst->state != InstanceState::kStopped) {
    return CloudError(StatusCode::kFailedPrecondition, kAliIncorrectStatus,
                      "instance " + r.id + " is " + std::string(InstanceStateName(inst->state)) +
                          ", StartInstance needs Stopped");
  }
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

// --- Describe, billing, advice --------------------------------------------------------------

AlibabaInstanceInfo AlibabaFlavor::Info(const Record& r, const Instance& inst) {
  AlibabaInstanceInfo i;
  i.instance_id = r.id;
  i.instance_name = inst.name;
  i.zone_id = inst.zone;
  i.region_id = inst.region;
  i.instance_type = inst.type;
  switch (inst.state) {
    case InstanceState::kStopped:
      i.status = "Stopped";
      break;
    case InstanceState::kTerminated:
      i.status = "Released";
      break;
    default:
      i.status = "Running";
  }
  i.strategy = r.strategy;
  i.spot_price_limit = r.limit;
  i.spot_duration = r.spot_duration;
  i.interruption_behavior = r.behavior;
  i.stopped_mode = inst.state == InstanceState::kStopped
                       ? std::string(StoppedModeName(r.stopped_mode))
                       : "Not-applicable";
  if (r.termination_time) i.operation_locks.push_back("Recycling");
  i.creation_time = r.created;
  i.protection_end = r.protection_end();
  i.creation_price = r.creation_price;
  i.termination_time = r.termination_time;
  i.released_time = inst.end_time;
  i.recycled = r.recycled;
  return i;
}

Result<AlibabaInstanceInfo> AlibabaFlavor::Describe(std::string_view id) const {
  const Record* r = FindRecord(id);
  const Instance* inst = market_.FindInstance(id);
  if (!r || !inst) {
    return CloudError(StatusCode::kNotFound, kAliInstanceNotFound,
                      "InstanceId " + Quote(id) + " does not exist");
  }
  return Info(*r, *inst);
}

std::vector<AlibabaInstanceInfo> AlibabaFlavor::DescribeAll(bool include_released) const {
  std::vector<AlibabaInstanceInfo> out;
  for (const auto& [id, r] : records_) {
    const Instance* inst = market_.FindInstance(id);
    if (!inst || (!include_released && inst->state == InstanceState::kTerminated)) continue;
    out.push_back(Info(r, *inst));
  }
  return out;
}

void AlibabaFlavor::OpenCharge(Record& r) {
  if (!r.charged.empty() && !r.charged.back().to) return;
  r.charged.push_back({market_.now(), std::nullopt});
}

void AlibabaFlavor::CloseCharge(Record& r) {
  if (!r.charged.empty() && !r.charged.back().to) r.charged.back().to = market_.now();
}

double AlibabaFlavor::RawCost(const Record& r) const {
  double cost = 0;
  for (const ChargePeriod& p : r.charged) {
    const WallTime to = p.to.value_or(market_.now());
    if (to <= p.from) continue;
    if (!r.spot()) {
      cost += r.on_demand * Seconds(p.from, to) / 3600.0;
      continue;
    }
    const Pool& pool = market_.catalog().pool(r.pool);
    if (r.spot_duration == 0) {
      cost += kNoProtectionFactor * pool.SpotCost(p.from, to);
      continue;
    }
    // Protected: the first hour at the price at creation, then the real-time price.
    const WallTime pe = r.protection_end();
    const WallTime split = std::clamp(pe, p.from, to);
    cost += r.creation_price * Seconds(p.from, split) / 3600.0;
    cost += pool.SpotCost(split, to);
  }
  return cost;
}

Result<AlibabaBill> AlibabaFlavor::Bill(std::string_view id) const {
  const Record* r = FindRecord(id);
  if (!r) {
    return CloudError(StatusCode::kNotFound, kAliInstanceNotFound,
                      "InstanceId " + Quote(id) + " does not exist");
  }
  AlibabaBill b;
  b.instance_id = r->id;
  b.raw_cost = RawCost(*r);
  // Seed 001/002: accurate to two decimals; less than USD 0.01 is not charged.
  b.charged =
      b.raw_cost < 0.01 ? 0.0 : static_cast<double>(std::llround(b.raw_cost * 100.0)) / 100.0;
  for (const ChargePeriod& p : r->charged) {
    const WallTime to = p.to.value_or(market_.now());
    if (to > p.from) b.billed_seconds += Seconds(p.from, to);
  }
  return b;
}

double AlibabaFlavor::AccountCharged() const {
  int64_t cents = 0;
  for (const auto& [id, r] : records_) {
    Result<AlibabaBill> b = Bill(id);
    if (b.ok()) cents += std::llround(b->charged * 100.0);
  }
  return static_cast<double>(cents) / 100.0;
}

std::vector<AlibabaSpotAdvice> AlibabaFlavor::DescribeSpotAdvice(
    std::string_view zone, std::string_view instance_type) const {
  std::vector<AlibabaSpotAdvice> out;
  const WallTime now = market_.now();
  const WallTime window_start = now - kAdviceWindow;
  for (const Pool& pool : market_.catalog().pools()) {
    if (!zone.empty() && pool.zone != zone) continue;
    if (!instance_type.empty() && pool.type != instance_type) continue;
    AlibabaSpotAdvice a;
    a.zone_id = pool.zone;
    a.region_id = pool.region;
    a.instance_type = pool.type;
    for (const auto& [id, r] : records_) {
      if (r.pool != pool.index || !r.spot() || r.created < window_start) continue;
      ++a.instances;
      if (r.recycled) ++a.recycled;
    }
    a.interruption_rate = a.instances == 0 ? 0.0 : static_cast<double>(a.recycled) / a.instances;
    a.interrupt_rate_desc = InterruptRateBucket(a.interruption_rate);
    const WallTime from =
        std::max(window_start, pool.history.empty() ? now : pool.history.front().time);
    a.average_spot_price =
        now > from ? pool.SpotCost(from, now) / (Seconds(from, now) / 3600.0) : pool.price;
    a.average_spot_discount =
        static_cast<int>(std::lround(100.0 * a.average_spot_price / pool.on_demand_price));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace lastcall::mock
