// Zones and regions: DescribeAvailabilityZones (the catalog's zones in the caller's region, or
// all when the call is unsigned) and DescribeRegions (every region of the catalog). EC2 pages
// neither; the zone ids ("use1-az1") are derived from the region's name and the zone's position.
#include <set>
#include <string>
#include <vector>

#include "mockmeta/ec2api/ec2_action.h"

namespace lastcall::mock::ec2 {
namespace {

// "us-east-1" -> "use1", "eu-west-1" -> "euw1": the first word, the first letter of the others,
// the number.
std::string RegionShortName(std::string_view region) {
  std::string out;
  size_t start = 0;
  while (start <= region.size()) {
    const size_t dash = region.find('-', start);
    std::string_view word =
        region.substr(start, dash == std::string_view::npos ? region.npos : dash - start);
    if (!word.empty()) {
      const bool number = word.find_first_not_of("0123456789") == std::string_view::npos;
      out += number || start == 0 ? std::string(word) : std::string(1, word[0]);
    }
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return out;
}

struct ZoneInfo {
  const Zone* zone;
  std::string zone_id;
};

std::vector<std::string> ZoneField(const ZoneInfo& z, std::string_view name) {
  auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
  if (name == "zone-name") return one(z.zone->name);
  if (name == "zone-id") return one(z.zone_id);
  if (name == "region-name") return one(z.zone->region);
  if (name == "state") return one("available");
  if (name == "zone-type") return one("availability-zone");
  if (name == "group-name" || name == "network-border-group") return one(z.zone->region);
  if (name == "opt-in-status") return one("opt-in-not-required");
  return {};
}

MaybeError DescribeAvailabilityZones(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> names = p.List("ZoneName");
  std::vector<std::string> ids = p.List("ZoneId");
  p.Bool("AllAvailabilityZones");
  std::vector<Filter> filters = p.Filters();
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (MaybeError e = CheckFilters(filters,
                                  {"zone-name", "zone-id", "region-name", "state", "zone-type",
                                   "group-name", "network-border-group", "opt-in-status"},
                                  false)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market& market, AwsFlavor&, Ec2State&) -> MaybeError {
    std::vector<ZoneInfo> zones;
    std::map<std::string, int> per_region;
    for (const Zone& z : market.catalog().zones()) {
      const int n = ++per_region[z.region];
      if (!call.region.empty() && z.region != call.region) continue;
      zones.push_back({&z, RegionShortName(z.region) + "-az" + std::to_string(n)});
    }
    for (const std::string& n : names) {
      bool found = false;
      for (const ZoneInfo& z : zones) found = found || z.zone->name == n;
      if (!found) {
        return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                        "Invalid availability zone: [" + n.substr(0, 64) + "]"};
      }
    }
    out.Open("availabilityZoneInfo");
    for (const ZoneInfo& z : zones) {
      if (!names.empty() && std::find(names.begin(), names.end(), z.zone->name) == names.end()) {
        continue;
      }
      if (!ids.empty() && std::find(ids.begin(), ids.end(), z.zone_id) == ids.end()) continue;
      if (!Matches(filters, [&](std::string_view f) { return ZoneField(z, f); })) continue;
      out.Open("item")
          .Leaf("zoneName", z.zone->name)
          .Leaf("zoneState", "available")
          .Leaf("regionName", z.zone->region)
          .Open("messageSet")
          .Close()
          .Leaf("zoneId", z.zone_id)
          .Leaf("zoneType", "availability-zone")
          .Leaf("groupName", z.zone->region)
          .Leaf("networkBorderGroup", z.zone->region)
          .Leaf("optInStatus", "opt-in-not-required")
          .Close();
    }
    out.Close();
    return std::nullopt;
  });
}

MaybeError DescribeRegions(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> names = p.List("RegionName");
  p.Bool("AllRegions");
  std::vector<Filter> filters = p.Filters();
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (MaybeError e = CheckFilters(filters, {"region-name", "endpoint", "opt-in-status"}, false)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market& market, AwsFlavor&, Ec2State&) -> MaybeError {
    std::set<std::string> regions;
    for (const Zone& z : market.catalog().zones()) regions.insert(z.region);
    for (const std::string& n : names) {
      if (!regions.count(n)) {
        return Ec2Error{Ec2ErrorCode::kInvalidParameterValue, "Invalid region: " + n.substr(0, 64)};
      }
    }
    out.Open("regionInfo");
    for (const std::string& r : regions) {
      if (!names.empty() && std::find(names.begin(), names.end(), r) == names.end()) continue;
      const std::string endpoint = "ec2." + r + ".amazonaws.com";
      auto field = [&](std::string_view f) -> std::vector<std::string> {
        if (f == "region-name") return {r};
        if (f == "endpoint") return {endpoint};
        if (f == "opt-in-status") return {"opt-in-not-required"};
        return {};
      };
      if (!Matches(filters, field)) continue;
      out.Open("item")
          .Leaf("regionName", r)
          .Leaf("regionEndpoint", endpoint)
          .Leaf("optInStatus", "opt-in-not-required")
          .Close();
    }
    out.Close();
    return std::nullopt;
  });
}

}  // namespace

void RegisterZoneActions(ActionTable& table) {
  table["DescribeAvailabilityZones"] = &DescribeAvailabilityZones;
  table["DescribeRegions"] = &DescribeRegions;
}

}  // namespace lastcall::mock::ec2
