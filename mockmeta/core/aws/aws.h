// AwsFlavor: AWS Spot instances and spot requests (the rules as modelled: aws.md here).
//
// Spot requests (one-time / persistent, ValidFrom / ValidUntil, launch groups, spot blocks) move
// through the states and status codes of EC2's spot request lifecycle (aws.md, "Requests"). Open
// requests are evaluated whenever a pool's price, capacity or usage changes and at least every
// kEvaluationPeriod (fixed grid points from the market start, so one big advance equals many small
// ones). Running spot instances are interrupted when the price rises above their max price or their
// pool is short of capacity: the request goes to marked-for-termination / marked-for-stop, the
// instance gets its spot/instance-action (and termination-time for terminate) two minutes ahead, a
// rebalance recommendation at the latest together with it, and at that time the instance ends.
// Stopped (disabled) requests restart their instance when price and capacity allow, no sooner than
// one evaluation period after the stop (so a forced stop is seen as one); persistent requests
// reopen after their instance ends. Spot blocks run at a fixed price (the spot price at
// fulfilment), are never interrupted by price, and end with a two-minute notice. Also: user
// terminate / stop / start, cancel, expiry, scheduled maintenance events, the Auto Scaling target
// lifecycle state, forced interruptions (like AWS FIS), and per-second billing.
//
// Every change is logged (kind "spot_request" with state "state/status-code", kind "instance"
// for instances) with its cause. Mutations validate first and apply fully or not at all; errors
// carry EC2's codes (cloud_error.h). Mutations happen at market.now(); work they trigger (an
// evaluation) runs at that instant inside the next Market::AdvanceTo.
//
// Thread-safety: as Flavor (Market's thread only).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mockmeta/core/flavor.h"

namespace lastcall::mock {

class Market;

enum class SpotRequestType { kOneTime, kPersistent };
enum class InterruptionBehavior { kTerminate, kStop, kHibernate };
std::string_view SpotRequestTypeName(SpotRequestType t);            // "one-time" | "persistent"
std::string_view InterruptionBehaviorName(InterruptionBehavior b);  // "terminate" | ...
Result<SpotRequestType> ParseSpotRequestType(std::string_view s);
Result<InterruptionBehavior> ParseInterruptionBehavior(std::string_view s);
// instance-reboot, system-reboot, system-maintenance, instance-retirement, instance-stop.
bool IsScheduledEventCode(std::string_view code);
// InService, Terminated, Detached, Standby, Warmed:Hibernated|Running|Stopped|Terminated.
bool IsTargetLifecycleState(std::string_view state);

// RequestSpotInstances parameters. Immutable once submitted.
struct SpotRequestSpec {
  std::string instance_type;
  std::string zone;                 // empty: the cheapest pool of the type with capacity
  std::optional<double> max_price;  // USD/h; default: the on-demand price
  int instance_count = 1;           // N => N separate requests
  SpotRequestType type = SpotRequestType::kOneTime;
  std::optional<WallTime> valid_from;
  std::optional<WallTime> valid_until;
  std::string launch_group;  // all open requests of the group launch together or not at all
  // Requests of one AvailabilityZoneGroup all launch in the zone where the first one launched.
  std::string availability_zone_group;
  int block_duration_minutes = 0;  // 0, or 60..360 in steps of 60 (spot block; one-time only)
  InterruptionBehavior interruption_behavior = InterruptionBehavior::kTerminate;
  std::string name;           // Name tag given to the request's instances (scenarios refer to it)
  InstanceSettings settings;  // given to each instance the request launches
};

// Request states (EC2's names; aws.md, "Requests").
namespace spot_state {
inline constexpr const char* kOpen = "open";
inline constexpr const char* kActive = "active";
inline constexpr const char* kClosed = "closed";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kDisabled = "disabled";
}  // namespace spot_state

struct SpotRequest {
  std::string id;    // sir-xxxxxxxx
  uint64_t seq = 0;  // submission order (evaluation order: first come, first served)
  SpotRequestSpec spec;
  double max_price = 0;  // resolved
  std::string state;
  std::string status_code;
  WallTime create_time{};
  WallTime status_update_time{};
  std::string instance_id;  // the current (or last) instance
  std::string launched_zone;
  std::optional<double> block_hourly_price;  // actualBlockHourlyPrice
};

// RunInstances, spot (InstanceMarketOptions.MarketType=spot) or on-demand. A spot launch makes a
// one-time (or persistent) request that is fulfilled at once or fails with
// InsufficientInstanceCapacity / SpotMaxPriceTooLow and leaves nothing behind.
struct RunInstanceSpec {
  std::string instance_type;
  std::string zone;
  bool spot = true;
  std::optional<double> max_price;
  SpotRequestType spot_type = SpotRequestType::kOneTime;
  InterruptionBehavior interruption_behavior = InterruptionBehavior::kTerminate;
  std::string name;
  InstanceSettings settings;
};

struct ScheduledEventSpec {
  std::string code;  // instance-reboot, system-reboot, system-maintenance, instance-retirement,
                     // instance-stop
  WallTime not_before{};
  std::optional<WallTime> not_after;
  std::optional<WallTime> not_before_deadline;
  std::string description;  // default: from the code
};

// What an instance has cost so far (or in total once it ended).
struct AwsBill {
  double usd = 0;                // unrounded, per second at the price in effect
  long long seconds_billed = 0;  // running seconds charged
  long long seconds_free = 0;    // running seconds not charged (market / provider interruption)
  std::string note;              // why some time was not charged
};

class AwsFlavor final : public Flavor {
 public:
  // Open requests are evaluated at least this often (plus on every pool change).
  static constexpr Duration kEvaluationPeriod = std::chrono::minutes(5);
  // Interruption notice lead time (spot/instance-action time - notice time).
  static constexpr Duration kNoticeLead = std::chrono::minutes(2);
  // Rebalance risk thresholds: price >= this share of the max price, or pool utilisation >= this.
  static constexpr double kRebalancePriceShare = 0.9;
  static constexpr double kRebalanceUtilisation = 0.9;

  explicit AwsFlavor(Market& market) : market_(market) {}

  std::string_view name() const override { return "aws"; }
  std::optional<FlavorKind> kind() const override { return FlavorKind::kAws; }
  std::optional<WallTime> NextDue() const override;
  void RunDue(WallTime now) override;
  void OnPoolChanged(const Pool& pool, PoolChange what, WallTime now) override;
  void FillMetadata(const Instance& instance, MetadataView& view) const override;

  // --- Spot requests ------------------------------------------------------------------------
  // Checks everything RequestSpotInstances would (InvalidParameterValue naming the parameter).
  Status ValidateSpec(const SpotRequestSpec& spec) const;
  // Creates spec.instance_count requests (open/pending-evaluation, or failed/bad-parameters
  // when no pool sells the type in the zone); returns their ids. Evaluated at now() in the next
  // AdvanceTo.
  Result<std::vector<std::string>> RequestSpotInstances(const SpotRequestSpec& spec,
                                                        std::string_view cause);
  // Cancels every id (all or nothing: an unknown id fails the whole call with
  // InvalidSpotInstanceRequestID.NotFound). Requests already closed/cancelled/failed are left.
  Status CancelSpotInstanceRequests(const std::vector<std::string>& ids, std::string_view cause);
  const SpotRequest* FindRequest(std::string_view id) const;
  const std::map<std::string, SpotRequest, std::less<>>& requests() const { return requests_; }

  // --- Instances ----------------------------------------------------------------------------
  Result<std::string> RunInstance(const RunInstanceSpec& spec, std::string_view cause);
  // User actions (EC2 TerminateInstances / StopInstances / StartInstances).
  Status TerminateInstance(std::string_view id, std::string_view cause);
  // Spot instances can be stopped only when launched by a persistent request.
  Status StopInstance(std::string_view id, std::string_view cause);
  // A spot instance starts only if its max price >= the spot price and the pool has capacity.
  Status StartInstance(std::string_view id, std::string_view cause);
  // The newest AWS instance carrying this Name tag (scenarios), or nullptr.
  const Instance* FindInstanceByName(std::string_view name) const;

  // --- Injectable per instance --------------------------------------------------------------
  Result<std::string> CreateScheduledEvent(std::string_view instance_id,
                                           const ScheduledEventSpec& spec, std::string_view cause);
  Status CancelScheduledEvent(std::string_view instance_id, std::string_view event_id,
                              std::string_view cause);
  // Completes an event; an instance-retirement event then terminates the instance
  // (instance-terminated-by-service).
  Status CompleteScheduledEvent(std::string_view instance_id, std::string_view event_id,
                                std::string_view cause);
  // InService, Terminated, Detached, Standby, Warmed:Hibernated|Running|Stopped|Terminated.
  Status SetTargetLifecycleState(std::string_view instance_id, std::string_view state,
                                 std::string_view cause);
  // Like AWS FIS aws:ec2:send-spot-instance-interruptions: a rebalance recommendation now, an
  // instance-action with `action` at now + lead, reported as instance-terminated-no-capacity.
  Status ForceInterruption(std::string_view instance_id, InterruptionBehavior action, Duration lead,
                           std::string_view cause);
  Status ForceRebalance(std::string_view instance_id, std::string_view cause);

  // Instances of this flavor in pool `pool` that still hold their spot slot but have an
  // instance-action pending (they will give the slot back).
  int PendingReleases(int pool) const override;

  // --- Billing ------------------------------------------------------------------------------
  Result<AwsBill> Bill(std::string_view instance_id) const;
  double AccountBill() const;  // all AWS instances

 private:
  struct Run {
    WallTime from{};
    std::optional<WallTime> to;
    bool free = false;
  };
  struct AwsInstance {
    std::string request_id;  // empty for on-demand
    double max_price = 0;
    InterruptionBehavior behavior = InterruptionBehavior::kTerminate;
    bool block = false;
    double block_price = 0;
    WallTime block_end{};
    std::optional<InstanceAction> action;
    std::string action_status;  // the status code the request gets when the action happens
    std::string action_cause;
    std::optional<WallTime> rebalance;
    std::vector<ScheduledEvent> events;
    std::optional<std::string> lifecycle;
    std::vector<Run> runs;
    bool provider_ended_block = false;
    WallTime stopped_at{};  // last stop by the market (restart not before + kEvaluationPeriod)
    std::string free_note;
    // The Market's record (std::map nodes: stable, never erased): the evaluation at every
    // market move reads it for each indexed instance, so it skips the string-keyed lookup.
    Instance* inst = nullptr;
  };

  void Due(WallTime at, std::string key) { due_.insert({at, std::move(key)}); }
  void Evaluate(WallTime now);
  void ScheduleNextEvaluation(WallTime now);
  // The zone the request's AvailabilityZoneGroup is bound to (empty: none yet / no group).
  std::string AzGroupZone(const SpotRequest& r) const;
  void CheckInterruptions();
  void CheckRebalance();
  void RestartDisabled();
  void EvaluateOpen();
  // EvaluateOpen's two cases: a request on its own, and a launch group (all members or none).
  void EvaluateAlone(SpotRequest& r);
  void EvaluateLaunchGroup(const std::vector<SpotRequest*>& open, const std::string& group);
  // Why a launch group's `members` wait (each request's status), when they cannot launch together.
  void ExplainLaunchGroupWait(const std::vector<SpotRequest*>& members, const SpotRequestSpec& spec,
                              const std::string& group);
  void SetRequest(SpotRequest& r, std::string_view state, std::string_view status,
                  std::string_view cause, std::string_view detail = {});
  // Chooses a pool for `r` given extra slots already promised this pass; -1 and a status code
  // saying why when none fits. Honours the request's zone and its AvailabilityZoneGroup.
  int ChoosePool(const SpotRequest& r, const std::map<int, int>& promised, std::string* why) const;
  Status Launch(SpotRequest& r, int pool, std::string_view cause);
  void Mark(Instance& inst, AwsInstance& ai, std::string_view status, std::string_view cause,
            const std::string& action, Duration lead, bool with_rebalance);
  void SetRebalance(Instance& inst, AwsInstance& ai, std::string_view cause,
                    std::string_view detail);
  void RunAction(const std::string& instance_id);
  void BlockNotice(const std::string& instance_id);
  // Ends the current run; `market` says the market/provider interrupted it (billing rules).
  void CloseRun(AwsInstance& ai, bool market);
  void EndInstance(Instance& inst, AwsInstance& ai, std::string_view status, std::string_view cause,
                   bool market);
  void StopByMarket(Instance& inst, AwsInstance& ai, std::string_view status,
                    std::string_view cause, bool hibernate);
  void RequestAfterEnd(SpotRequest& r, std::string_view status, std::string_view cause);
  void ClearNotice(const Instance& inst, AwsInstance& ai);
  Result<std::pair<Instance*, AwsInstance*>> Find(std::string_view id);
  Result<std::pair<const Instance*, const AwsInstance*>> Find(std::string_view id) const;
  ScheduledEvent* FindEvent(AwsInstance& ai, std::string_view event_id);
  // The spot request `ai` was launched by, or nullptr (on-demand, or a request already gone).
  SpotRequest* RequestOf(const AwsInstance& ai);
  double Cost(const Instance& inst, const AwsInstance& ai, const Run& run, WallTime to) const;

  Market& market_;
  std::set<std::pair<WallTime, std::string>> due_;  // (time, "act:<id>" | "block:<id>" | "eval")
  std::map<std::string, SpotRequest, std::less<>> requests_;
  std::map<std::string, AwsInstance, std::less<>> instances_;  // AWS instances, by id
  // The evaluation runs at every market move, so it looks only at what can change: per pool the
  // spot instances not terminated yet, by max price (a price rise reaches only the bids below
  // it), and the requests open or disabled (kept by SetRequest, in requests_' id order; keys
  // view requests_' keys). What the per-pool scans find is applied in instance-id order, the
  // order of the full scan over instances_ it replaces, so the log stays the same.
  using PoolInstances = std::set<std::pair<double, AwsInstance*>>;
  std::vector<PoolInstances> by_pool_;
  std::map<std::string_view, SpotRequest*> waiting_;
  PoolInstances* IndexOf(int pool);
  const PoolInstances* IndexOf(int pool) const;
  uint64_t request_seq_ = 0;
};

}  // namespace lastcall::mock
