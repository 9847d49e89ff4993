// Catalog: what the simulated cloud sells: instance types, zones, and pools (type x zone).
//
// A Pool carries its spot capacity, how many spot instances currently run in it (shared by both
// flavors: the capacity accounting), its current spot price, its price model and its price
// history. The Catalog only stores and finds; every change goes through the Market, which logs
// it, keeps the history and tells the flavors. Pools never move once added (stable indices and
// addresses), so flavors may keep a pool index or a `const Pool*`.
//
// Thread-safety: not thread-safe; owned by the Market.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/core/price_model.h"

namespace lastcall::mock {

struct InstanceType {
  std::string name;  // "ecs.c5.8xlarge", "m5.large"
  int vcpu = 0;
  double memory_gib = 0;
  double on_demand_price = 0;  // USD per hour (pay-as-you-go)
};

struct Zone {
  std::string name;    // "cn-hangzhou-b", "us-east-1a"
  std::string region;  // "cn-hangzhou", "us-east-1"
};

struct PricePoint {
  WallTime time{};
  double price = 0;
};

inline constexpr size_t kMaxPriceHistory = 100000;

struct Pool {
  int index = 0;
  std::string id;  // "<type>@<zone>", e.g. "m5.large@us-east-1a"
  std::string type;
  std::string zone;
  std::string region;
  double on_demand_price = 0;
  int capacity = 0;      // how many spot instances the pool can hold
  int spot_running = 0;  // spot instances holding a slot now (both flavors)
  double price = 0;      // current spot price, <= on_demand_price
  PriceModel model;
  PriceModelState model_state;
  // Every change, oldest first; the first is the start price. Bounded: past kMaxPriceHistory
  // points the oldest are dropped (PriceAt before the oldest held point answers that point's
  // price, and so does billing for such times).
  std::vector<PricePoint> history;

  // Stock shortage: more spot instances run than the capacity allows.
  int Shortage() const { return spot_running > capacity ? spot_running - capacity : 0; }
  int Free() const { return capacity > spot_running ? capacity - spot_running : 0; }
  double Utilisation() const {
    return capacity <= 0 ? 1.0 : static_cast<double>(spot_running) / capacity;
  }
  // The price in effect at t (history lookup; binary search).
  double PriceAt(WallTime t) const;
  // USD for holding one instance over [from, to) at the spot price in effect, billed per second
  // (hourly price / 3600), unrounded. Both flavors' billing builds on this.
  double SpotCost(WallTime from, WallTime to) const;
};

std::string PoolId(std::string_view type, std::string_view zone);

class Catalog {
 public:
  Status AddType(InstanceType type);
  Status AddZone(Zone zone);
  // Adds a pool for an existing type and zone; returns its index.
  Result<int> AddPool(std::string_view type, std::string_view zone, int capacity);

  const InstanceType* FindType(std::string_view name) const;
  const Zone* FindZone(std::string_view name) const;
  Pool* FindPool(std::string_view type, std::string_view zone);
  Pool* FindPool(std::string_view pool_id);
  const Pool* FindPool(std::string_view pool_id) const;
  Pool& pool(int index) { return pools_[index]; }
  const Pool& pool(int index) const { return pools_[index]; }

  const std::deque<InstanceType>& types() const { return types_; }
  const std::deque<Zone>& zones() const { return zones_; }
  std::deque<Pool>& pools() { return pools_; }
  const std::deque<Pool>& pools() const { return pools_; }

 private:
  std::deque<InstanceType> types_;
  std::deque<Zone> zones_;
  std::deque<Pool> pools_;  // deque: adding never moves existing pools
  std::map<std::string, int, std::less<>> type_index_, zone_index_, pool_index_;
};

}  // namespace lastcall::mock
