// Flavor: the extension point through which a cloud's rules (Alibaba preemptible, AWS Spot) plug
// into the Market's discrete-event loop.
//
// A flavor owns its own state (bids, spot requests, pending notices, per-instance extras) and
// reports when it next has work. The Market calls, at each virtual instant, in this order:
// timed actions, price-model steps, then each flavor's RunDue(now) if NextDue() <= now (in the
// order the flavors were registered with Market::AddFlavor), and repeats until nothing is due at
// that instant.
//
// The Market knows a flavor only through this interface, and a flavor never calls another one:
// what flavors share (pool capacity, pending releases in a shared pool) goes through the Market.
// OnPoolChanged is called synchronously from inside the Market's mutation (price, capacity,
// model, usage); a flavor should only note the change there (mark dirty, push a due time equal
// to `now`) and do the work in RunDue, so the order of effects stays the engine's.
//
// Contract: NextDue() is called on every loop turn, keep it O(1)/O(log n) (a heap or std::set
// of due times). RunDue(now) must consume everything due <= now or the engine reports an error
// after too many turns at one instant. Use Market::rng() (or a Fork of it) for every random
// choice; never read a clock; log every state change with Market::Log.
//
// Thread-safety: called only from the Market's (single) thread.
#pragma once

#include <optional>
#include <string_view>

#include "common/clock.h"
#include "mockmeta/core/instance.h"

namespace lastcall::mock {

struct Pool;

enum class PoolChange {
  kPrice,     // the spot price changed (any cause)
  kCapacity,  // capacity changed (may now be short: Pool::Shortage() > 0)
  kModel,     // a new price model was installed
  kUsage,     // spot_running changed (a slot was taken or given back, by either flavor)
};

class Flavor {
 public:
  virtual ~Flavor() = default;

  virtual std::string_view name() const = 0;
  // The instances this flavor serves (Instance::flavor): the Market asks it for their metadata.
  // nullopt for a flavor that serves none and only watches the engine (a test's probe).
  virtual std::optional<FlavorKind> kind() const = 0;
  virtual std::optional<WallTime> NextDue() const = 0;
  virtual void RunDue(WallTime now) = 0;
  virtual void OnPoolChanged(const Pool& pool, PoolChange what, WallTime now) = 0;
  // Fills the flavor part of an instance's metadata (the Market filled the identity).
  virtual void FillMetadata(const Instance& instance, MetadataView& view) const = 0;
  // How many of this flavor's slot holders in pool `pool` (an index) already have a release
  // pending (a notice given, the slot not yet free). A short pool counts them as already gone,
  // whichever flavor they belong to (Market::PendingReleases sums every flavor), so a mixed pool
  // loses only as many instances as it is short.
  virtual int PendingReleases(int pool) const = 0;
};

}  // namespace lastcall::mock
