// AlibabaFlavor's loop: the engine hooks (NextDue, RunDue, OnPoolChanged, FillMetadata) and
// recycling: each preemptible instance's check on its 5-minute grid, the index of who may be
// recycled, the shortage ranking (lowest bid first), the To Be Released notice and the release
// (or stop) at termination-time. The ECS calls are in alibaba_instances.cc, Describe and spot
// advice in alibaba_describe.cc, billing in alibaba_billing.cc.
#include "mockmeta/core/alibaba/alibaba.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/alibaba/alibaba_internal.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr Duration kCheckPeriod = minutes(5);
constexpr Duration kNoticeLead = minutes(5);

}  // namespace

using alibaba_internal::kNoProtectionFactor;
using alibaba_internal::PriceUnits;

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

}  // namespace lastcall::mock
