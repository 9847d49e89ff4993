// Prices: DescribeSpotPriceHistory (the pools' price history: SpotPrice as the market set it,
// 10% lower for SpotDuration=0; OriginPrice the pay-as-you-go price), DescribeSpotAdvice (the
// market's release statistics over 30 days) and DescribePrice (pay-as-you-go or the current
// preemptible price, per hour).
#include <algorithm>
#include <string>
#include <vector>

#include "mockmeta/ecsapi/ecs_action.h"

namespace lastcall::mock::ecs {
namespace {

constexpr size_t kHistoryPage = 1000;

void ReadNetworkType(EcsParamReader& r, std::string& out) {
  out = r.String("NetworkType", true).value_or("");
  if (r.ok() && out != "vpc" && out != "classic") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"NetworkType\" is not valid: " + Quote(out) +
               " (vpc or classic).");
  }
}

int ReadSpotDuration(EcsParamReader& r) {
  std::optional<long long> d = r.Integer("SpotDuration", 0, 6);
  if (d && *d > 1) {
    r.Fail(EcsErrorCode::kInvalidSpotDuration,
           "The specified SpotDuration " + std::to_string(*d) + " is not valid (0 or 1).");
  }
  return static_cast<int>(d.value_or(1));
}

// The pools of `type` in `region` (and `zone`, when given), in catalog order.
std::vector<const Pool*> PoolsOf(const Market& market, std::string_view region,
                                 std::string_view type, const std::optional<std::string>& zone) {
  std::vector<const Pool*> out;
  for (const Pool& p : market.catalog().pools()) {
    if (p.region == region && (type.empty() || p.type == type) && (!zone || p.zone == *zone)) {
      out.push_back(&p);
    }
  }
  return out;
}

MaybeError DescribeSpotPriceHistory(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  std::string network;
  ReadNetworkType(r, network);
  std::optional<std::string> type = r.String("InstanceType", true);
  std::optional<std::string> zone = r.String("ZoneId");
  std::optional<WallTime> start = r.Time("StartTime");
  std::optional<WallTime> end = r.Time("EndTime");
  const int duration = ReadSpotDuration(r);
  const long long offset = r.Integer("Offset", 0, 1000000000).value_or(0);
  r.String("OSType");
  r.String("IoOptimized");
  if (r.ok() && start && end && *start > *end) {
    r.Fail(EcsErrorCode::kInvalidParameter, "The StartTime is later than the EndTime.");
  }
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor&, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    if (!market.catalog().FindType(*type)) {
      return EcsError{EcsErrorCode::kInvalidInstanceTypeValueNotSupported,
                      "The specified InstanceType " + Quote(*type) + " does not exist."};
    }
    if (zone && !market.catalog().FindZone(*zone)) {
      return EcsError{EcsErrorCode::kInvalidZoneIdNotFound,
                      "The specified ZoneId " + Quote(*zone) + " does not exist."};
    }
    const WallTime to = end.value_or(market.now());
    const WallTime from = start.value_or(to - std::chrono::hours(3));
    json all = json::array();
    for (const Pool* p : PoolsOf(market, *region, *type, zone)) {
      for (size_t i = 0; i < p->history.size(); ++i) {
        const PricePoint& pt = p->history[i];
        // The point in effect at `from` counts too: the price the window starts with.
        const bool in_effect_at_start =
            pt.time < from && (i + 1 == p->history.size() || p->history[i + 1].time > from);
        if (pt.time > to || (pt.time < from && !in_effect_at_start)) continue;
        all.push_back({{"ZoneId", p->zone},
                       {"InstanceType", p->type},
                       {"NetworkType", network},
                       {"IoOptimized", "optimized"},
                       {"Timestamp", EcsTime(pt.time)},
                       {"SpotPrice", AlibabaFlavor::MarketPrice(pt.price, duration)},
                       {"OriginPrice", p->on_demand_price}});
      }
    }
    json page = json::array();
    for (size_t i = static_cast<size_t>(offset); i < all.size() && page.size() < kHistoryPage;
         ++i) {
      page.push_back(std::move(all[i]));
    }
    body["Currency"] = "USD";
    body["NextOffset"] = static_cast<long long>(offset + page.size());
    body["SpotPrices"] = {{"SpotPriceType", page}};
    return std::nullopt;
  });
}

MaybeError DescribeSpotAdvice(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  std::optional<std::string> zone = r.String("ZoneId");
  std::vector<std::string> types = r.RepeatList("InstanceTypes", 10);
  std::optional<long long> cores = r.Integer("Cores", 1, 100000);
  std::optional<long long> min_cores = r.Integer("MinCores", 1, 100000);
  std::optional<double> memory = r.Number("Memory");
  std::optional<double> min_memory = r.Number("MinMemory");
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    json zones = json::array();
    for (const AlibabaSpotAdvice& a : ali.DescribeSpotAdvice(zone.value_or(""))) {
      if (a.region_id != *region) continue;
      if (!types.empty() && std::find(types.begin(), types.end(), a.instance_type) == types.end()) {
        continue;
      }
      const InstanceType* t = market.catalog().FindType(a.instance_type);
      if (!t || (cores && t->vcpu != *cores) || (min_cores && t->vcpu < *min_cores) ||
          (memory && t->memory_gib != *memory) || (min_memory && t->memory_gib < *min_memory)) {
        continue;
      }
      json resource = {{"InstanceType", a.instance_type},
                       {"InterruptionRate", a.interruption_rate},
                       {"InterruptRateDesc", a.interrupt_rate_desc},
                       {"AverageSpotDiscount", a.average_spot_discount}};
      json* into = nullptr;
      for (json& z : zones) {
        if (z["ZoneId"] == a.zone_id) into = &z;
      }
      if (!into) {
        zones.push_back({{"ZoneId", a.zone_id},
                         {"AvailableSpotResources", {{"AvailableSpotResource", json::array()}}}});
        into = &zones.back();
      }
      (*into)["AvailableSpotResources"]["AvailableSpotResource"].push_back(resource);
    }
    body["RegionId"] = *region;
    body["AvailableSpotZones"] = {{"AvailableSpotZone", zones}};
    return std::nullopt;
  });
}

MaybeError DescribePrice(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  std::optional<std::string> resource = r.String("ResourceType");
  std::optional<std::string> type = r.String("InstanceType", true);
  std::optional<std::string> zone = r.String("ZoneId");
  std::optional<std::string> strategy_s = r.String("SpotStrategy");
  const int duration = ReadSpotDuration(r);
  std::optional<std::string> unit = r.String("PriceUnit");
  const long long amount = r.Integer("Amount", 1, 1000).value_or(1);
  SpotStrategy strategy = SpotStrategy::kNoSpot;
  if (r.ok() && strategy_s) {
    Result<SpotStrategy> s = ParseSpotStrategy(*strategy_s);
    if (!s.ok()) r.Fail(EcsErrorCode::kInvalidSpotStrategy, FromMarketStatus(s.status()).message);
    if (s.ok()) strategy = *s;
  }
  if (r.ok() && resource && *resource != "instance") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"ResourceType\" is not valid: only instance is priced.");
  }
  if (r.ok() && unit && *unit != "Hour") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"PriceUnit\" is not valid: pay-as-you-go and preemptible "
           "instances are priced per Hour.");
  }
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor&, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    std::vector<const Pool*> pools = PoolsOf(market, *region, *type, zone);
    const InstanceType* t = market.catalog().FindType(*type);
    if (!t || (strategy != SpotStrategy::kNoSpot && pools.empty())) {
      return EcsError{EcsErrorCode::kInvalidInstanceTypeValueNotSupported,
                      "The specified InstanceType " + Quote(*type) + " is not sold here."};
    }
    const double original = t->on_demand_price * static_cast<double>(amount);
    const double each = strategy == SpotStrategy::kNoSpot
                            ? t->on_demand_price
                            : AlibabaFlavor::MarketPrice(pools.front()->price, duration);
    const double trade = each * static_cast<double>(amount);
    json detail = {{"Resource", "instanceType"},
                   {"OriginalPrice", original},
                   {"DiscountPrice", original - trade},
                   {"TradePrice", trade},
                   {"SubRules", {{"Rule", json::array()}}}};
    body["PriceInfo"] = {{"Price",
                          {{"Currency", "USD"},
                           {"OriginalPrice", original},
                           {"DiscountPrice", original - trade},
                           {"TradePrice", trade},
                           {"DetailInfos", {{"DetailInfo", json::array({detail})}}}}},
                         {"Rules", {{"Rule", json::array()}}}};
    return std::nullopt;
  });
}

}  // namespace

void RegisterPriceActions(ActionTable& t) {
  t["DescribeSpotPriceHistory"] = DescribeSpotPriceHistory;
  t["DescribeSpotAdvice"] = DescribeSpotAdvice;
  t["DescribePrice"] = DescribePrice;
}

}  // namespace lastcall::mock::ecs
