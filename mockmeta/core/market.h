// Market: the simulation engine. Owns the catalog and pools, the instances of every flavor, the
// event log, the seeded randomness, the scheduled timed actions and the flavors registered with
// it, and moves them all through virtual time with a discrete-event loop.
//
// The Market knows flavors only through the Flavor interface (flavor.h), as a list in
// registration order; it includes no flavor's header. World (world.h) builds a Market with the
// Alibaba and AWS flavors and gives typed access to them; a test may register only its own.
//
// AdvanceTo(T) repeatedly takes the earliest due time D <= T over (timed actions, price-model
// steps, each flavor's NextDue()), sets now = D, and at that instant runs, in this order and
// repeating until nothing more is due at D:
//   1. timed actions due at D, in (time, schedule order);
//   2. price-model steps due at D, in pool order (the order pools were added);
//   3. flavors whose NextDue() <= D, in AddFlavor order (World: Alibaba, then AWS).
// Then now = T. Because every due time is a fixed point in virtual time (not "now + x" from the
// caller's step), advancing an hour at once gives exactly the same event log as twelve 5-minute
// advances. Nothing here reads a clock; the server maps real time to virtual time (VirtualClock)
// and calls AdvanceTo before each request.
//
// Mutations (SetSpotPrice, SetCapacity, SetPriceModel, AddInstance, Schedule, ...) validate
// everything first and apply fully or not at all; errors carry a cloud code (cloud_error.h).
// They happen at now(); call AdvanceTo first.
//
// Thread-safety: not thread-safe. The server holds one mutex around the Market.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/core/catalog.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/event_log.h"
#include "mockmeta/core/flavor.h"
#include "mockmeta/core/instance.h"
#include "mockmeta/core/rng.h"

namespace lastcall::mock {

class Market;

struct MarketOptions {
  uint64_t seed = 1;
  WallTime start = WallTime(std::chrono::seconds(1'775'520'000));  // 2026-04-07T00:00:00Z
  std::string account_id = "123456789012";
};

// Something the scenario (or the control API) wants done at a virtual time.
struct TimedAction {
  enum class Kind { kSetPrice, kSetCapacity, kSetPriceModel, kCall };
  WallTime at{};
  Kind kind = Kind::kCall;
  std::string pool;  // pool id, for the kSet* kinds
  double price = 0;
  int capacity = 0;
  PriceModel model;
  // kCall: flavor actions (launch, release, force a notice, ...). A failure is logged as an
  // event (kind "action", new_state "failed") and does not stop the loop.
  std::function<Status(Market&, WallTime)> call;
  std::string label;  // shown in the log, e.g. "scenario.toml:42 set_capacity"
};

class Market {
 public:
  explicit Market(MarketOptions options = {});
  ~Market();
  Market(const Market&) = delete;
  Market& operator=(const Market&) = delete;

  WallTime now() const { return now_; }
  // True only while the current instant's timed actions and price steps run before the
  // flavors' first RunDue at that instant: work a flavor has due at now() still runs after
  // such a change. Anywhere else (later turns, a flavor's own RunDue, API calls between
  // advances) everything due <= now() has already run. Event-driven flavors use this to tell
  // whether a check on a grid point equal to now() was already passed.
  bool FlavorsPendingAtNow() const { return flavors_done_through_ < now_; }
  WallTime start() const { return options_.start; }
  uint64_t seed() const { return options_.seed; }
  const std::string& account_id() const { return options_.account_id; }

  Catalog& catalog() { return catalog_; }
  const Catalog& catalog() const { return catalog_; }
  const EventLog& log() const { return log_; }
  // The shared decision stream for flavors (victim order, ...). Draw only in deterministic order.
  Rng& rng() { return rng_; }

  // --- Flavors -----------------------------------------------------------------------------
  // Registers a flavor (built with this Market) and returns it, typed as given: the Market owns
  // it and runs it after those registered before. At most one flavor serves each FlavorKind.
  template <typename F>
  F& AddFlavor(std::unique_ptr<F> flavor) {
    F& typed = *flavor;
    Register(std::move(flavor));
    return typed;
  }
  // The flavor serving instances of `kind`, or nullptr when none is registered.
  const Flavor* FlavorFor(FlavorKind kind) const;
  // Slot holders of pool `pool` (an index) with a release pending, over every flavor.
  int PendingReleases(int pool) const;

  // --- Engine ---------------------------------------------------------------------------
  // Runs every step due in (now, t] (and any still due at now) in order; t >= now().
  Status AdvanceTo(WallTime t);
  // The same in slices: stops once `max_work` units (instants run plus events logged) are spent
  // before t is reached; now() is then the last instant run, and the next call goes on from
  // there. Any sequence of slices gives exactly the steps and events of one AdvanceTo(t). The
  // server uses this so that a long advance never holds its lock (or its only thread) for long.
  Status AdvanceTo(WallTime t, size_t max_work);
  // Earliest due time of anything, or nullopt when nothing is pending.
  std::optional<WallTime> NextDue() const;

  // --- Catalog and pools ----------------------------------------------------------------
  Status AddType(InstanceType type) { return catalog_.AddType(std::move(type)); }
  Status AddZone(Zone zone) { return catalog_.AddZone(std::move(zone)); }
  // Adds a pool priced by `model`, starting at `initial_price` (default: the model's own start
  // price; required for a fixed model). Returns the pool index.
  Result<int> AddPool(std::string_view type, std::string_view zone, int capacity, PriceModel model,
                      std::optional<double> initial_price);
  Status SetSpotPrice(std::string_view pool_id, double price, std::string_view cause,
                      std::string_view detail = {});
  Status SetCapacity(std::string_view pool_id, int capacity, std::string_view cause,
                     std::string_view detail = {});
  // Installs a model starting at now(); the current price stays until the model's first step
  // (a trace step at offset 0 applies within the next AdvanceTo, at the same virtual instant).
  Status SetPriceModel(std::string_view pool_id, PriceModel model, std::string_view cause);

  // --- Capacity accounting (shared by both flavors) --------------------------------------
  // Takes one spot slot in the instance's pool; kInsufficientCapacity when the pool is full.
  Status AcquireSpotSlot(Instance& instance);
  // Gives the slot back (no-op when the instance holds none).
  void ReleaseSpotSlot(Instance& instance);

  // --- Instances -------------------------------------------------------------------------
  // A fresh id in the flavor's format (unique in this Market).
  std::string NewInstanceId(FlavorKind flavor);
  // "prefix" + `len` random chars from [0-9a-f] (hex) or [0-9a-z]; e.g. ("sir-", 8, false).
  std::string NewId(std::string_view prefix, int len, bool hex);
  // Adds an instance at now(). Fills what is empty: id, region, pool, launch_time, hostname,
  // private_ip, mac, image_id, account_id. With take_slot (spot instances) it also takes a
  // spot slot; all or nothing. Logs kind "instance", "" -> state.
  Result<Instance*> AddInstance(Instance instance, bool take_slot, std::string_view cause,
                                std::string_view detail = {});
  Instance* FindInstance(std::string_view id);
  const Instance* FindInstance(std::string_view id) const;
  // All instances, ordered by id (deterministic).
  const std::map<std::string, Instance, std::less<>>& instances() const { return instances_; }
  // Changes state and logs it (neutral state names; flavors may log in their own words with Log
  // instead). Entering kTerminated sets end_time and gives back the spot slot.
  void SetInstanceState(Instance& instance, InstanceState state, std::string_view cause,
                        std::string_view detail = {});
  // Replaces what the user set on an instance (control API PUT .../settings); `settings` must
  // pass CheckInstanceSettings. kInvalidInstanceIdNotFound if unknown. Logged.
  Status SetInstanceSettings(std::string_view instance_id, InstanceSettings settings,
                             std::string_view cause);
  // The snapshot IMDS serves; kInvalidInstanceIdNotFound if unknown.
  Result<MetadataView> Metadata(std::string_view instance_id) const;

  // --- Timed actions and the log ---------------------------------------------------------
  // Schedules an action at action.at >= now(); returns its schedule sequence number.
  Result<uint64_t> Schedule(TimedAction action);
  size_t pending_actions() const { return actions_.size(); }
  // Appends an event stamped with now().
  uint64_t Log(std::string_view kind, std::string_view id, std::string_view old_state,
               std::string_view new_state, std::string_view cause, std::string_view detail = {});

 private:
  struct QueuedAction {
    WallTime at;
    uint64_t seq;
    std::shared_ptr<TimedAction> action;
    bool operator>(const QueuedAction& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void Register(std::unique_ptr<Flavor> flavor);
  bool RunOneTurn(WallTime at);
  void RunAction(const TimedAction& action, WallTime at);
  void RunPriceStep(Pool& pool);
  void ApplyPrice(Pool& pool, double price, std::string_view cause, std::string_view detail);
  void InstallModel(Pool& pool, PriceModel model);
  void NotifyPool(const Pool& pool, PoolChange what);
  Result<Pool*> PoolOrError(std::string_view pool_id);

  MarketOptions options_;
  WallTime now_;
  WallTime flavors_done_through_;  // every flavor's work due <= this has run
  Catalog catalog_;
  EventLog log_;
  Rng rng_;
  Rng id_rng_;
  uint64_t model_generation_ = 0;
  uint64_t action_seq_ = 0;
  uint64_t identity_counter_ = 0;
  std::priority_queue<QueuedAction, std::vector<QueuedAction>, std::greater<>> actions_;
  std::set<std::pair<WallTime, int>> price_due_;   // (due, pool index)
  std::vector<std::optional<WallTime>> pool_due_;  // by pool index, mirrors price_due_
  std::map<std::string, Instance, std::less<>> instances_;
  // Run order. Declared last, so flavors (which hold a Market&) go before the rest of the Market.
  std::vector<std::unique_ptr<Flavor>> flavors_;
};

}  // namespace lastcall::mock
