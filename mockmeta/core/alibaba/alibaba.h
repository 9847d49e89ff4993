// AlibabaFlavor: Alibaba Cloud preemptible instances (the rules as modelled: alibaba.md here).
//
// What it simulates, all at the Market's virtual now():
//  - RunInstances with SpotStrategy NoSpot / SpotAsPriceGo / SpotWithPriceLimit, SpotDuration 1
//    (one protection hour, the default) or 0 (none, 10% cheaper), SpotInterruptionBehavior
//    Terminate / Stop. A preemptible instance is created only if its bid >= its market price and
//    the pool has stock (all `Amount` instances or none). The bid never changes afterwards.
//  - The recycling check: on the fixed grid creation + max(protection, 5 min) + k * 5 min, a
//    SpotWithPriceLimit bid below the market price, or a stock shortage that picks this
//    instance (lowest bid first, SpotAsPriceGo bidding the current market price, equal bids in a
//    seeded random order fixed at creation), puts it To Be Released: termination-time = notice
//    + 5 min and the "Recycling" operation lock. At that time it is released, or stopped
//    (StopCharging) when SpotInterruptionBehavior=Stop.
//  - StopInstance (KeepCharging keeps the slot and the bill; StopCharging gives both up),
//    StartInstance per Alibaba's restart table (alibaba.md), DeleteInstance (Force), a forced
//    notice.
//  - Billing per second, DescribeSpotAdvice-like release statistics, DescribeInstances fields.
//
// An instance's *market price* is the pool's spot price, or 90% of it (rounded to 4 decimals)
// for SpotDuration 0: the price without protection is 10% lower (alibaba.md), and bids, restarts,
// recycling and billing of such an instance all use that lower price.
//
// State changes go to the Market's event log (kind "instance"): creation "" -> running (from
// Market::AddInstance), running -> To Be Released (cause price | capacity | service), running
// or stopped -> terminated (released), running -> stopped / stopped -> running. Details carry
// Alibaba's words (StoppedMode, SpotStrategy, bid and price). Slot accounting goes through the
// Market (AcquireSpotSlot / ReleaseSpotSlot).
//
// Pools are shared with AWS instances (Pool::spot_running counts both). A shortage is answered
// by whichever flavor looks first (at one instant Alibaba's checks run before AWS's evaluation),
// and each flavor subtracts every flavor's pending releases (Market::PendingReleases, which asks
// each flavor's Flavor::PendingReleases), so a mixed pool loses only as many instances as it is
// short. Bids are not ranked
// across the two clouds.
//
// Cost: checks are event-driven. A check that cannot put anyone To Be Released does nothing
// and logs nothing, so only instances that might be recycled are checked: every instance at its
// first grid point (and after StartInstance), then only while it is *triggered* (its pool is
// short, or a SpotWithPriceLimit bid is below its market price). Per pool the slot holders are
// indexed (SpotWithPriceLimit ones by bid), so a price change arms only the bids below the new
// price, and a shortage arms the pool's slot holders, each at its next grid point not yet passed
// (Market::FlavorsPendingAtNow). A check re-evaluates the current state; when nothing triggers it
// any more, its chain stops until the next trigger. The outcome is the one of checking every
// instance on its whole grid. While a pool is short, the recycling order is computed once per
// pool and instant (and again only if anything else was logged meanwhile), not once per check.
//
// Errors are CloudError statuses with Alibaba codes, e.g. "InvalidSpotPriceLimit.LowerThan
// PublicPrice", "OperationDenied.NoStock", "IncorrectInstanceStatus".
//
// Thread-safety: as Flavor (Market's thread only).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mockmeta/core/flavor.h"
#include "mockmeta/core/rng.h"

namespace lastcall::mock {

class Market;

enum class SpotStrategy { kNoSpot, kSpotAsPriceGo, kSpotWithPriceLimit };
enum class SpotInterruptionBehavior { kTerminate, kStop };
enum class StoppedMode { kKeepCharging, kStopCharging };

std::string_view SpotStrategyName(SpotStrategy s);                          // "SpotAsPriceGo"
std::string_view SpotInterruptionBehaviorName(SpotInterruptionBehavior b);  // "Terminate" | "Stop"
std::string_view StoppedModeName(StoppedMode m);  // "KeepCharging" | "StopCharging"
// Parsers for API / scenario strings; errors carry Alibaba codes (InvalidSpotStrategy, ...).
Result<SpotStrategy> ParseSpotStrategy(std::string_view s);
Result<SpotInterruptionBehavior> ParseSpotInterruptionBehavior(std::string_view s);
Result<StoppedMode> ParseStoppedMode(std::string_view s);

// Alibaba error codes used by this flavor.
inline constexpr std::string_view kAliNoStock = "OperationDenied.NoStock";
inline constexpr std::string_view kAliLowerThanPublicPrice =
    "InvalidSpotPriceLimit.LowerThanPublicPrice";
inline constexpr std::string_view kAliInvalidSpotPriceLimit = "InvalidParameter.SpotPriceLimit";
inline constexpr std::string_view kAliMissingSpotPriceLimit = "MissingParameter.SpotPriceLimit";
inline constexpr std::string_view kAliInvalidSpotDuration = "InvalidSpotDuration";
inline constexpr std::string_view kAliInvalidSpotStrategy = "InvalidSpotStrategy";
inline constexpr std::string_view kAliInvalidInterruptionBehavior =
    "InvalidParameter.SpotInterruptionBehavior";
inline constexpr std::string_view kAliInvalidStoppedMode = "InvalidParameter.StoppedMode";
inline constexpr std::string_view kAliInvalidAmount = "InvalidParameter.Amount";
inline constexpr std::string_view kAliInvalidZone = "InvalidZoneId.NotFound";
inline constexpr std::string_view kAliInvalidType = "InvalidInstanceType.ValueNotSupported";
inline constexpr std::string_view kAliTypeNotInZone = "InvalidResourceType.NotSupported";
inline constexpr std::string_view kAliInstanceNotFound = "InvalidInstanceId.NotFound";
inline constexpr std::string_view kAliIncorrectStatus = "IncorrectInstanceStatus";

inline constexpr int kAliMaxAmount = 100;

// RunInstances parameters (the ones the market cares about).
struct AlibabaRunRequest {
  std::string zone;           // ZoneId
  std::string instance_type;  // InstanceType
  SpotStrategy strategy = SpotStrategy::kNoSpot;
  std::optional<double> spot_price_limit;  // required for (and only used by) SpotWithPriceLimit
  int spot_duration = 1;                   // hours of protection: 0 or 1
  SpotInterruptionBehavior interruption_behavior = SpotInterruptionBehavior::kTerminate;
  std::string name;           // InstanceName; with amount > 1 each gets "-1", "-2", ... appended
  int amount = 1;             // 1..100, all or nothing
  InstanceSettings settings;  // given to each instance
};

// One instance as DescribeInstances shows it, plus the simulation's extras.
struct AlibabaInstanceInfo {
  std::string instance_id;
  std::string instance_name;
  std::string zone_id;
  std::string region_id;
  std::string instance_type;
  std::string status;  // "Running" | "Stopped" | "Released" (transitions are instantaneous)
  SpotStrategy strategy = SpotStrategy::kNoSpot;
  double spot_price_limit = 0;  // SpotWithPriceLimit only; 0 otherwise
  int spot_duration = 0;
  SpotInterruptionBehavior interruption_behavior = SpotInterruptionBehavior::kTerminate;
  std::string stopped_mode;                  // "Not-applicable" | "KeepCharging" | "StopCharging"
  std::vector<std::string> operation_locks;  // {"Recycling"} while To Be Released
  WallTime creation_time{};
  WallTime protection_end{};                 // == creation_time without protection
  double creation_price = 0;                 // the instance's market price at creation
  std::optional<WallTime> termination_time;  // while To Be Released
  std::optional<WallTime> released_time;
  bool recycled = false;  // ever put To Be Released by the system (price, stock, forced)
};

// Billing of one instance up to now() (or its release).
struct AlibabaBill {
  std::string instance_id;
  double raw_cost = 0;  // USD, unrounded
  double charged = 0;   // rounded to 2 decimals; 0 when raw_cost < 0.01
  double billed_seconds = 0;
};

// DescribeSpotAdvice for one pool (zone x type), over the last 30 days of virtual time.
struct AlibabaSpotAdvice {
  std::string zone_id;
  std::string region_id;
  std::string instance_type;
  int instances = 0;                // preemptible instances created in the window
  int recycled = 0;                 // of those, put To Be Released by the system
  double interruption_rate = 0;     // recycled / instances, a fraction in [0, 1]
  std::string interrupt_rate_desc;  // "0-3%" | "3-5%" | "5-10%" | "10-100%"
  int average_spot_discount = 0;    // time-weighted average spot price, % of pay-as-you-go
  double average_spot_price = 0;
};

// "0-3%" for rate < 0.03, "3-5%" < 0.05, "5-10%" < 0.10, else "10-100%".
std::string_view InterruptRateBucket(double rate);

class AlibabaFlavor final : public Flavor {
 public:
  explicit AlibabaFlavor(Market& market);

  std::string_view name() const override { return "alibaba"; }
  std::optional<FlavorKind> kind() const override { return FlavorKind::kAlibaba; }
  std::optional<WallTime> NextDue() const override;
  void RunDue(WallTime now) override;
  void OnPoolChanged(const Pool& pool, PoolChange what, WallTime now) override;
  void FillMetadata(const Instance& instance, MetadataView& view) const override;

  // --- ECS API --------------------------------------------------------------------------
  // Checks what does not depend on the market's current price and stock (parameters, zone,
  // type, pool, limit <= pay-as-you-go). RunInstances does this first.
  Status ValidateRunRequest(const AlibabaRunRequest& req) const;
  // Creates `amount` instances at now(), or none. Returns their ids in creation order.
  Result<std::vector<std::string>> RunInstances(const AlibabaRunRequest& req,
                                                std::string_view cause);
  Status StopInstance(std::string_view id, StoppedMode mode, std::string_view cause);
  Status StartInstance(std::string_view id, std::string_view cause);
  // Without force only a Stopped instance can be released (as DeleteInstance); with force any
  // instance that is not released yet, also while To Be Released.
  Status DeleteInstance(std::string_view id, bool force, std::string_view cause);
  // Puts a preemptible instance To Be Released now, protection or not (a fault-injection aid).
  Status ForceRecycle(std::string_view id, std::string_view cause);

  Result<AlibabaInstanceInfo> Describe(std::string_view id) const;
  // All Alibaba instances by id; released ones only when asked.
  std::vector<AlibabaInstanceInfo> DescribeAll(bool include_released) const;
  Result<AlibabaBill> Bill(std::string_view id) const;
  // Sum of every instance's charged amount (each rounded on its own, as the cloud bills).
  double AccountCharged() const;
  std::vector<AlibabaSpotAdvice> DescribeSpotAdvice(std::string_view zone = {},
                                                    std::string_view instance_type = {}) const;
  // The market price an instance with this protection setting pays in `pool` now.
  static double MarketPrice(double pool_price, int spot_duration);
  // Preemptible instances in pool `pool` that are To Be Released and still hold their slot.
  int PendingReleases(int pool) const override;

 private:
  struct ChargePeriod {
    WallTime from{};
    std::optional<WallTime> to;  // open while charging
  };
  struct Record {
    std::string id;
    int pool = -1;  // -1: NoSpot in a zone without a pool
    SpotStrategy strategy = SpotStrategy::kNoSpot;
    double limit = 0;
    int spot_duration = 0;
    SpotInterruptionBehavior behavior = SpotInterruptionBehavior::kTerminate;
    WallTime created{};
    double creation_price = 0;
    double on_demand = 0;
    uint64_t tie_key = 0;  // random order among equal bids, drawn once at creation
    StoppedMode stopped_mode = StoppedMode::kKeepCharging;  // meaningful while stopped
    std::optional<WallTime> termination_time;               // To Be Released
    std::string recycle_cause;
    bool recycled = false;
    std::optional<WallTime> next_check;
    enum class Indexed : uint8_t { kNo, kCandidate, kPending };
    Indexed indexed = Indexed::kNo;  // where it sits in its pool's PoolIndex
    std::vector<ChargePeriod> charged;
    std::string vpc_id, vswitch_id, serial_number;
    // The Market's record of this instance (std::map nodes: stable, never erased); saves a
    // string-keyed lookup on every 5-minute check.
    Instance* inst = nullptr;

    WallTime protection_end() const { return created + std::chrono::hours(spot_duration); }
    bool spot() const { return strategy != SpotStrategy::kNoSpot; }
  };
  // The stock-shortage victims of one pool at one instant: the first `short_by` slot holders in
  // recycling order. Valid while nothing but these victims' own notices was logged since
  // (`log_size`), because a victim's notice removes it from both the shortage and the order.
  struct Ranking {
    bool valid = false;
    WallTime at{};
    uint64_t log_size = 0;
    std::vector<const Record*> victims;  // in recycling order
    std::vector<bool> noticed;           // by victim position
  };
  // The preemptible slot holders of one pool. Candidates are those a check could put To Be
  // Released (not yet noticed); pending ones are To Be Released and still hold their slot.
  // Sets of pointers: iteration order never decides anything (due buckets run in id order and
  // the shortage ranking is a total order).
  struct PoolIndex {
    std::set<Record*> candidates;
    // SpotWithPriceLimit candidates by bid in 1e-4 USD, per spot_duration (their market prices
    // differ).
    std::set<std::pair<int64_t, Record*>> by_limit[2];
    std::set<Record*> pending;
  };
  enum DueKind : int { kRelease = 0, kCheck = 1 };  // releases first at one instant
  // Due work in buckets per (time, kind), each run in instance-id order (deterministic). A
  // bucket is mostly filled in id order already (the previous check of the same instances ran
  // in that order), so it is sorted only when it is not; a std::set keyed by id compared
  // strings on every insertion and was the engine's hottest spot at scale.
  using DueKey = std::pair<WallTime, int>;
  void AddDue(WallTime at, DueKind what, Record& r);
  void RemoveDue(WallTime at, DueKind what, const Record& r);

  Result<Record*> Find(std::string_view id, Instance** inst);
  const Record* FindRecord(std::string_view id) const;
  double InstanceMarketPrice(const Record& r) const;
  // The bid used for ranking, in 1e-4 USD units.
  int64_t BidUnits(const Record& r) const;
  void ScheduleCheck(Record& r, WallTime at);
  void CancelCheck(Record& r);
  // The first grid point >= t.
  static WallTime NextGridPoint(const Record& r, WallTime t);
  void RunCheck(Record& r, WallTime now);
  // Puts `r` into (or out of) its pool's index after any change of its state, slot or notice.
  void UpdateIndex(Record& r);
  // Schedules r's check at its next grid point not yet passed, unless one is scheduled.
  void Arm(Record& r, WallTime now, bool now_still_due);
  // Whether a check of `r` now could recycle it (its pool short, or its bid below the price).
  bool Triggered(const Record& r) const;
  // The shortage ranking of `pool` at `now`, from the cache when still valid.
  Ranking& ShortageRanking(const Pool& pool, WallTime now);
  void Notice(Record& r, Instance& inst, std::string_view cause, std::string_view detail);
  void RunRelease(Record& r, WallTime now);
  void OpenCharge(Record& r);
  void CloseCharge(Record& r);
  double RawCost(const Record& r) const;
  std::string NetworkId(std::map<std::string, std::string, std::less<>>& ids, std::string_view key,
                        std::string_view prefix);
  static AlibabaInstanceInfo Info(const Record& r, const Instance& inst);

  Market& market_;
  Rng rng_;  // tie keys; a stream of its own so Alibaba draws never shift anything else
  std::map<std::string, Record, std::less<>> records_;
  std::map<DueKey, std::vector<Record*>> due_;
  std::map<int, Ranking> rankings_;                            // by pool index
  std::vector<PoolIndex> pool_index_;                          // by pool index, grown on use
  std::map<std::string, std::string, std::less<>> vpcs_;       // region -> vpc id
  std::map<std::string, std::string, std::less<>> vswitches_;  // zone -> vswitch id
};

}  // namespace lastcall::mock
