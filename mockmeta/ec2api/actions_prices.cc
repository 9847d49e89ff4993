// The catalog: DescribeSpotPriceHistory (the market's own price history, every change of every
// pool, newest first) and DescribeInstanceTypes (vCPUs and memory from the catalog; the rest of
// EC2's fields answered statically). Both are scoped to the caller's region (the signature's
// credential scope) when there is one.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "mockmeta/ec2api/ec2_action.h"

namespace lastcall::mock::ec2 {
namespace {

constexpr std::string_view kProduct = "Linux/UNIX";

bool InRegion(const Ec2Call& call, const Pool& pool) {
  return call.region.empty() || pool.region == call.region;
}

std::string Padded(unsigned long long n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", n);
  return buf;
}

struct PriceItem {
  const Pool* pool;
  PricePoint point;
};

std::vector<std::string> PriceField(const PriceItem& item, std::string_view name) {
  auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
  if (name == "availability-zone") return one(item.pool->zone);
  if (name == "instance-type") return one(item.pool->type);
  if (name == "product-description") return one(std::string(kProduct));
  if (name == "spot-price") return one(Ec2Price(item.point.price));
  if (name == "timestamp") return one(Ec2Time(item.point.time));
  return {};
}

MaybeError DescribeSpotPriceHistory(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::optional<WallTime> start = p.Time("StartTime");
  std::optional<WallTime> end = p.Time("EndTime");
  std::vector<std::string> types = p.List("InstanceType");
  std::vector<std::string> products = p.List("ProductDescription");
  std::optional<std::string> zone = p.String("AvailabilityZone");
  std::vector<Filter> filters = p.Filters();
  std::optional<long long> max = p.MaxResults(1, 10000);
  std::optional<std::string> token = p.String("NextToken");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (start && end && *end < *start) {
    return Ec2Error{Ec2ErrorCode::kInvalidParameterValue, "EndTime must not be before StartTime"};
  }
  if (MaybeError e = CheckFilters(
          filters,
          {"availability-zone", "instance-type", "product-description", "spot-price", "timestamp"},
          false)) {
    return e;
  }
  if (dry_run) return DryRunError();
  // Only Linux/UNIX is simulated: asking for other products only finds nothing.
  bool linux = products.empty();
  for (const std::string& d : products)
    linux = linux || d == kProduct || d == "Linux/UNIX (Amazon VPC)";
  return ctx.With([&](Market& market, AwsFlavor&, Ec2State&) -> MaybeError {
    const WallTime to = end.value_or(market.now());
    std::vector<PriceItem> items;
    std::vector<std::string> keys;
    for (const Pool& pool : market.catalog().pools()) {
      if (!linux || !InRegion(call, pool) || (zone && pool.zone != *zone)) continue;
      if (!types.empty() && std::find(types.begin(), types.end(), pool.type) == types.end()) {
        continue;
      }
      const auto& h = pool.history;
      for (size_t i = 0; i < h.size(); ++i) {
        if (h[i].time > to) break;
        // Before StartTime only the price then in effect counts (the last change before it).
        if (start && h[i].time < *start && i + 1 < h.size() && h[i + 1].time <= *start) continue;
        PriceItem item{&pool, h[i]};
        if (!Matches(filters, [&](std::string_view n) { return PriceField(item, n); })) continue;
        // Newest first: keys ascend as time descends; then pool order, then history order.
        const auto ns = static_cast<unsigned long long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(h[i].time.time_since_epoch())
                .count());
        keys.push_back(Padded(std::numeric_limits<unsigned long long>::max() / 2 - ns) + "/" +
                       Padded(static_cast<unsigned long long>(pool.index)) + "/" +
                       Padded(h.size() - i));
        items.push_back(item);
      }
    }
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    std::vector<std::string> sorted_keys;
    sorted_keys.reserve(order.size());
    for (size_t i : order) sorted_keys.push_back(keys[i]);
    Page page;
    if (MaybeError e = Paginate(sorted_keys, max, token, page)) return e;
    out.Open("spotPriceHistorySet");
    for (size_t k = page.begin; k < page.end; ++k) {
      const PriceItem& item = items[order[k]];
      out.Open("item")
          .Leaf("instanceType", item.pool->type)
          .Leaf("productDescription", kProduct)
          .Leaf("spotPrice", Ec2Price(item.point.price))
          .Leaf("timestamp", Ec2Time(item.point.time))
          .Leaf("availabilityZone", item.pool->zone)
          .Close();
    }
    out.Close();
    out.LeafIfSet("nextToken", page.next_token);
    return std::nullopt;
  });
}

void WriteItems(XmlWriter& out, std::string_view element,
                std::initializer_list<std::string_view> values) {
  out.Open(element);
  for (std::string_view v : values) out.Leaf("item", v);
  out.Close();
}

void WriteInstanceType(XmlWriter& out, const InstanceType& t) {
  out.Open("item").Leaf("instanceType", t.name);
  out.BoolLeaf("currentGeneration", true).BoolLeaf("freeTierEligible", false);
  WriteItems(out, "supportedUsageClasses", {"on-demand", "spot"});
  WriteItems(out, "supportedRootDeviceTypes", {"ebs"});
  WriteItems(out, "supportedVirtualizationTypes", {"hvm"});
  out.BoolLeaf("bareMetal", false).Leaf("hypervisor", "nitro");
  out.Open("processorInfo");
  WriteItems(out, "supportedArchitectures", {"x86_64"});
  out.Close();
  out.Open("vCpuInfo").Leaf("defaultVCpus", t.vcpu).Close();
  out.Open("memoryInfo").Leaf("sizeInMiB", std::llround(t.memory_gib * 1024)).Close();
  out.BoolLeaf("instanceStorageSupported", false).BoolLeaf("hibernationSupported", true);
  out.BoolLeaf("burstablePerformanceSupported", false).BoolLeaf("dedicatedHostsSupported", false);
  out.BoolLeaf("autoRecoverySupported", true);
  WriteItems(out, "supportedBootModes", {"legacy-bios", "uefi"});
  out.Close();
}

std::vector<std::string> TypeField(const InstanceType& t, std::string_view name) {
  auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
  if (name == "instance-type") return one(t.name);
  if (name == "vcpu-info.default-vcpus") return one(std::to_string(t.vcpu));
  if (name == "memory-info.size-in-mib") {
    return one(std::to_string(std::llround(t.memory_gib * 1024)));
  }
  if (name == "current-generation") return one("true");
  return {};
}

MaybeError DescribeInstanceTypes(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> names = p.List("InstanceType", 100);
  std::vector<Filter> filters = p.Filters();
  std::optional<long long> max = p.MaxResults(5, 100);
  std::optional<std::string> token = p.String("NextToken");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (MaybeError e = CheckFilters(filters,
                                  {"instance-type", "vcpu-info.default-vcpus",
                                   "memory-info.size-in-mib", "current-generation"},
                                  false)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market& market, AwsFlavor&, Ec2State&) -> MaybeError {
    // The types sold in the caller's region (a pool there).
    std::map<std::string, const InstanceType*> offered;
    for (const Pool& pool : market.catalog().pools()) {
      if (InRegion(call, pool)) offered[pool.type] = market.catalog().FindType(pool.type);
    }
    for (const std::string& n : names) {
      if (!offered.count(n)) {
        return Ec2Error{
            Ec2ErrorCode::kInvalidParameterValue,
            "The following supplied instance types do not exist: [" + n.substr(0, 64) + "]"};
      }
    }
    std::vector<const InstanceType*> chosen;
    std::vector<std::string> keys;
    for (const auto& [name, t] : offered) {
      if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
      // A copy: clang before 16 cannot capture a structured binding (the fuzz preset is clang 14).
      const InstanceType* type = t;
      if (!Matches(filters, [&](std::string_view f) { return TypeField(*type, f); })) continue;
      chosen.push_back(t);
      keys.push_back(name);
    }
    Page page;
    if (MaybeError e = Paginate(keys, max, token, page)) return e;
    out.Open("instanceTypeSet");
    for (size_t i = page.begin; i < page.end; ++i) WriteInstanceType(out, *chosen[i]);
    out.Close();
    out.LeafIfSet("nextToken", page.next_token);
    return std::nullopt;
  });
}

}  // namespace

void RegisterPriceActions(ActionTable& table) {
  table["DescribeSpotPriceHistory"] = &DescribeSpotPriceHistory;
  table["DescribeInstanceTypes"] = &DescribeInstanceTypes;
}

}  // namespace lastcall::mock::ec2
