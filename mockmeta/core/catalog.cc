#include "mockmeta/core/catalog.h"

#include <algorithm>
#include <cmath>

namespace lastcall::mock {

std::string PoolId(std::string_view type, std::string_view zone) {
  std::string id(type);
  id += '@';
  id += zone;
  return id;
}

double Pool::PriceAt(WallTime t) const {
  auto it = std::upper_bound(history.begin(), history.end(), t,
                             [](WallTime x, const PricePoint& p) { return x < p.time; });
  if (it == history.begin()) return history.empty() ? price : history.front().price;
  return std::prev(it)->price;
}

double Pool::SpotCost(WallTime from, WallTime to) const {
  if (to <= from) return 0;
  auto seconds = [](WallTime a, WallTime b) {
    return std::chrono::duration<double>(b - a).count();
  };
  // The first history entry at or before `from` sets the starting price.
  auto it = std::upper_bound(history.begin(), history.end(), from,
                             [](WallTime x, const PricePoint& p) { return x < p.time; });
  double rate = it == history.begin() ? (history.empty() ? price : history.front().price)
                                      : std::prev(it)->price;
  double cost = 0;
  WallTime t = from;
  for (; it != history.end() && it->time < to; ++it) {
    cost += rate * seconds(t, it->time) / 3600.0;
    t = it->time;
    rate = it->price;
  }
  return cost + rate * seconds(t, to) / 3600.0;
}

Status Catalog::AddType(InstanceType t) {
  if (t.name.empty()) return InvalidArgument("instance type: name must not be empty");
  if (t.vcpu <= 0) return InvalidArgument("instance type " + t.name + ": vcpu must be positive");
  if (!std::isfinite(t.memory_gib) || t.memory_gib <= 0) {
    return InvalidArgument("instance type " + t.name + ": memory_gib must be positive");
  }
  if (!std::isfinite(t.on_demand_price) || t.on_demand_price <= 0) {
    return InvalidArgument("instance type " + t.name + ": on_demand_price must be positive");
  }
  if (type_index_.count(t.name)) {
    return {StatusCode::kAlreadyExists, "instance type " + t.name + " is defined twice"};
  }
  type_index_.emplace(t.name, static_cast<int>(types_.size()));
  types_.push_back(std::move(t));
  return Status::Ok();
}

Status Catalog::AddZone(Zone z) {
  if (z.name.empty()) return InvalidArgument("zone: name must not be empty");
  if (z.region.empty()) return InvalidArgument("zone " + z.name + ": region must not be empty");
  if (zone_index_.count(z.name)) {
    return {StatusCode::kAlreadyExists, "zone " + z.name + " is defined twice"};
  }
  zone_index_.emplace(z.name, static_cast<int>(zones_.size()));
  zones_.push_back(std::move(z));
  return Status::Ok();
}

Result<int> Catalog::AddPool(std::string_view type, std::string_view zone, int capacity) {
  const InstanceType* t = FindType(type);
  if (!t) return NotFound("pool: unknown instance type \"" + std::string(type) + "\"");
  const Zone* z = FindZone(zone);
  if (!z) return NotFound("pool: unknown zone \"" + std::string(zone) + "\"");
  if (capacity < 0) return InvalidArgument("pool: capacity must not be negative");
  std::string id = PoolId(type, zone);
  if (pool_index_.count(id))
    return Status(StatusCode::kAlreadyExists, "pool " + id + " is defined twice");
  Pool p;
  p.index = static_cast<int>(pools_.size());
  p.id = id;
  p.type = t->name;
  p.zone = z->name;
  p.region = z->region;
  p.on_demand_price = t->on_demand_price;
  p.capacity = capacity;
  pool_index_.emplace(std::move(id), p.index);
  pools_.push_back(std::move(p));
  return pools_.back().index;
}

const InstanceType* Catalog::FindType(std::string_view name) const {
  auto it = type_index_.find(name);
  return it == type_index_.end() ? nullptr : &types_[it->second];
}

const Zone* Catalog::FindZone(std::string_view name) const {
  auto it = zone_index_.find(name);
  return it == zone_index_.end() ? nullptr : &zones_[it->second];
}

Pool* Catalog::FindPool(std::string_view type, std::string_view zone) {
  return FindPool(PoolId(type, zone));
}

Pool* Catalog::FindPool(std::string_view pool_id) {
  auto it = pool_index_.find(pool_id);
  return it == pool_index_.end() ? nullptr : &pools_[it->second];
}

const Pool* Catalog::FindPool(std::string_view pool_id) const {
  auto it = pool_index_.find(pool_id);
  return it == pool_index_.end() ? nullptr : &pools_[it->second];
}

}  // namespace lastcall::mock
