// Where things are sold: DescribeRegions, DescribeZones, DescribeAvailableResource. Regions and
// zones come from the scenario's catalog; the instance types of a zone are its pools; stock
// (WithStock / WithoutStock) is the pool's free preemptible capacity for spot strategies, and
// always available for pay-as-you-go.
#include <set>
#include <string>

#include "mockmeta/ecsapi/ecs_action.h"

namespace lastcall::mock::ecs {
namespace {

MaybeError DescribeRegions(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  r.String("RegionId");
  r.String("AcceptLanguage");
  r.String("InstanceChargeType");
  r.String("ResourceType");
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor&, EcsState&) -> MaybeError {
    std::set<std::string> regions;
    for (const Zone& z : market.catalog().zones()) regions.insert(z.region);
    json list = json::array();
    for (const std::string& region : regions) {
      list.push_back({{"RegionId", region},
                      {"LocalName", region},
                      {"RegionEndpoint", "ecs." + region + ".aliyuncs.com"},
                      {"Status", "available"}});
    }
    body["Regions"] = {{"Region", list}};
    return std::nullopt;
  });
}

MaybeError DescribeZones(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  r.String("InstanceChargeType");
  r.String("SpotStrategy");
  r.Bool("Verbose");
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor&, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    json zones = json::array();
    for (const Zone& z : market.catalog().zones()) {
      if (z.region != *region) continue;
      json types = json::array();
      for (const Pool& p : market.catalog().pools()) {
        if (p.zone == z.name) types.push_back(p.type);
      }
      zones.push_back(
          {{"ZoneId", z.name},
           {"LocalName", z.name},
           {"ZoneType", "AvailabilityZone"},
           {"AvailableInstanceTypes", {{"InstanceTypes", types}}},
           {"AvailableResourceCreation",
            {{"ResourceTypes", json::array({"Instance", "Disk", "VSwitch"})}}},
           {"AvailableDiskCategories", {{"DiskCategories", json::array({"cloud_essd"})}}},
           {"AvailableVolumeCategories", {{"VolumeCategories", json::array({"cloud_essd"})}}}});
    }
    body["Zones"] = {{"Zone", zones}};
    return std::nullopt;
  });
}

json Supported(std::string_view value, bool stock) {
  return {{"Value", value},
          {"Status", stock ? "Available" : "SoldOut"},
          {"StatusCategory", stock ? "WithStock" : "WithoutStock"}};
}

MaybeError DescribeAvailableResource(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  std::optional<std::string> dest = r.String("DestinationResource", true);
  std::optional<std::string> zone = r.String("ZoneId");
  std::optional<std::string> type = r.String("InstanceType");
  std::optional<std::string> strategy_s = r.String("SpotStrategy");
  r.String("InstanceChargeType");
  r.String("ResourceType");
  r.Integer("SpotDuration", 0, 1);
  if (r.ok() && *dest != "Zone" && *dest != "InstanceType") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"DestinationResource\" is not valid: the simulation answers "
           "Zone and InstanceType.");
  }
  bool spot = false;
  if (r.ok() && strategy_s) {
    Result<SpotStrategy> s = ParseSpotStrategy(*strategy_s);
    if (!s.ok()) r.Fail(EcsErrorCode::kInvalidSpotStrategy, FromMarketStatus(s.status()).message);
    spot = s.ok() && *s != SpotStrategy::kNoSpot;
  }
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor&, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    json zones = json::array();
    for (const Zone& z : market.catalog().zones()) {
      if (z.region != *region || (zone && z.name != *zone)) continue;
      json supported = json::array();
      bool any = false;
      for (const Pool& p : market.catalog().pools()) {
        if (p.zone != z.name || (type && p.type != *type)) continue;
        const bool stock = !spot || p.Free() > 0;
        any = any || stock;
        if (*dest == "InstanceType") supported.push_back(Supported(p.type, stock));
      }
      if (*dest == "Zone") supported.push_back(Supported(z.name, any));
      zones.push_back(
          {{"ZoneId", z.name},
           {"RegionId", z.region},
           {"Status", any ? "Available" : "SoldOut"},
           {"StatusCategory", any ? "WithStock" : "WithoutStock"},
           {"AvailableResources",
            {{"AvailableResource",
              json::array({{{"Type", *dest},
                            {"SupportedResources", {{"SupportedResource", supported}}}}})}}}});
    }
    body["AvailableZones"] = {{"AvailableZone", zones}};
    return std::nullopt;
  });
}

}  // namespace

void RegisterZoneActions(ActionTable& t) {
  t["DescribeRegions"] = DescribeRegions;
  t["DescribeZones"] = DescribeZones;
  t["DescribeAvailableResource"] = DescribeAvailableResource;
}

}  // namespace lastcall::mock::ecs
