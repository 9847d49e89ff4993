// RunInstances: on-demand, or spot through InstanceMarketOptions (MarketType=spot, SpotOptions
// MaxPrice / SpotInstanceType / InstanceInterruptionBehavior), MinCount..MaxCount instances in
// one reservation, TagSpecifications for the instances (and their spot requests). Whether the
// whole call can launch is decided before the first instance starts (price, free spot slots,
// the per-call limit), so a failed call leaves nothing behind.
#include <string>
#include <vector>

#include "mockmeta/core/event_log.h"
#include "mockmeta/ec2api/ec2_action.h"

namespace lastcall::mock::ec2 {
namespace {

// Most instances one call may launch (EC2's answer past an account's quota is
// InstanceLimitExceeded; mockmeta's quota is per call).
constexpr long long kMaxInstancesPerCall = 1000;

struct RunParams {
  RunInstanceSpec spec;
  long long min_count = 1;
  long long max_count = 1;
  std::map<std::string, std::string> instance_tags;
  std::map<std::string, std::string> request_tags;
};

// Instance tags and spot request tags of TagSpecifications; other resource types are refused.
MaybeError SplitTags(const std::vector<TagSpecification>& tag_specs, RunParams& run) {
  for (const TagSpecification& ts : tag_specs) {
    if (ts.resource_type != "instance" && ts.resource_type != "spot-instances-request") {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      "'" + ts.resource_type.substr(0, 64) +
                          "' is not a taggable resource type here (instance, "
                          "spot-instances-request)"};
    }
    auto& into = ts.resource_type == "instance" ? run.instance_tags : run.request_tags;
    for (const Tag& t : ts.tags) into[t.key] = t.value;
  }
  return std::nullopt;
}

MaybeError ReadRunParams(const Ec2Call& call, RunParams& run, bool& dry_run) {
  ParamReader p(call.params);
  RunInstanceSpec& spec = run.spec;
  std::optional<std::string> type = p.String("InstanceType", true);
  p.String("ImageId");  // accepted; the market gives every instance its own image id
  std::optional<long long> min = p.Integer("MinCount", 1, 2147483647, true);
  std::optional<long long> max = p.Integer("MaxCount", 1, 2147483647, true);
  std::optional<std::string> zone = p.String("Placement.AvailabilityZone");
  std::optional<std::string> market_type = p.String("InstanceMarketOptions.MarketType");
  const std::string so = "InstanceMarketOptions.SpotOptions.";
  spec.max_price = p.Price(so + "MaxPrice");
  std::optional<std::string> spot_type = p.String(so + "SpotInstanceType");
  std::optional<std::string> behavior = p.String(so + "InstanceInterruptionBehavior");
  std::vector<TagSpecification> tag_specs = p.TagSpecifications();
  dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (*min > *max) {
    return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                    "MinCount (" + std::to_string(*min) + ") must not be greater than MaxCount (" +
                        std::to_string(*max) + ")"};
  }
  if (*min > kMaxInstancesPerCall) {
    return Ec2Error{Ec2ErrorCode::kInstanceLimitExceeded,
                    "Your quota allows for " + std::to_string(kMaxInstancesPerCall) +
                        " more running instance(s). You requested at least " +
                        std::to_string(*min)};
  }
  run.min_count = *min;
  run.max_count = std::min(*max, kMaxInstancesPerCall);
  if (market_type && *market_type != "spot") {
    return Ec2Error{Ec2ErrorCode::kInvalidParameterValue, "InstanceMarketOptions.MarketType: '" +
                                                              market_type->substr(0, 32) +
                                                              "' is not supported (spot)"};
  }
  spec.spot = market_type.has_value();
  if (!spec.spot && (spec.max_price || spot_type || behavior)) {
    return Ec2Error{Ec2ErrorCode::kInvalidParameterCombination,
                    "SpotOptions need InstanceMarketOptions.MarketType=spot"};
  }
  if (spot_type) {
    Result<SpotRequestType> t = ParseSpotRequestType(*spot_type);
    if (!t.ok()) {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      so + "SpotInstanceType: " + t.status().message()};
    }
    spec.spot_type = *t;
  }
  if (behavior) {
    Result<InterruptionBehavior> b = ParseInterruptionBehavior(*behavior);
    if (!b.ok()) {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      so + "InstanceInterruptionBehavior: " + b.status().message()};
    }
    spec.interruption_behavior = *b;
  }
  if (MaybeError e = SplitTags(tag_specs, run)) return e;
  spec.instance_type = *type;
  spec.zone = zone.value_or("");
  if (auto it = run.instance_tags.find("Name"); it != run.instance_tags.end()) {
    spec.name = it->second;
  }
  return std::nullopt;
}

// The pool the launch goes to: the given zone's, or the first pool of the type that can take
// the whole call (spot: price at most the max price and min_count free slots).
const Pool* ChoosePool(const Market& market, const RunParams& run) {
  const RunInstanceSpec& spec = run.spec;
  if (!spec.zone.empty()) return market.catalog().FindPool(PoolId(spec.instance_type, spec.zone));
  const InstanceType* type = market.catalog().FindType(spec.instance_type);
  const Pool* first = nullptr;
  for (const Pool& pool : market.catalog().pools()) {
    if (pool.type != spec.instance_type) continue;
    if (!first) first = &pool;
    if (!spec.spot) return &pool;
    const double max = spec.max_price.value_or(type ? type->on_demand_price : 0);
    if (pool.price <= max && pool.Free() >= run.min_count) return &pool;
  }
  return first;
}

// How many instances the call launches (>= min_count), or why none.
Result<long long> LaunchCount(const Market& market, const RunParams& run, const Pool* pool) {
  if (!run.spec.spot) return run.max_count;
  const InstanceType* type = market.catalog().FindType(run.spec.instance_type);
  const double max = run.spec.max_price.value_or(type ? type->on_demand_price : 0);
  if (pool->price > max) {
    return CloudError(StatusCode::kFailedPrecondition, "SpotMaxPriceTooLow",
                      "Your max price " + Ec2Price(max) + " is below the spot price " +
                          Ec2Price(pool->price) + " of " + pool->id);
  }
  const long long n = std::min<long long>(run.max_count, pool->Free());
  if (n < run.min_count) {
    return CloudError(StatusCode::kResourceExhausted, kInsufficientCapacity,
                      "We currently do not have sufficient " + run.spec.instance_type +
                          " capacity in the Availability Zone you requested (" + pool->zone +
                          "): " + std::to_string(pool->Free()) + " free, MinCount " +
                          std::to_string(run.min_count));
  }
  return n;
}

MaybeError RunInstances(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  RunParams run;
  bool dry_run = false;
  if (MaybeError e = ReadRunParams(call, run, dry_run)) return e;
  MaybeError result = ctx.With([&](Market& market, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    if (!market.catalog().FindType(run.spec.instance_type)) {
      return Ec2Error{
          Ec2ErrorCode::kInvalidParameterValue,
          "InstanceType: unknown instance type \"" + run.spec.instance_type.substr(0, 64) + "\""};
    }
    const Pool* pool = ChoosePool(market, run);
    if (!pool) {
      return Ec2Error{
          Ec2ErrorCode::kInvalidParameterValue,
          "No pool sells " + run.spec.instance_type +
              (run.spec.zone.empty() ? std::string() : " in " + run.spec.zone.substr(0, 64))};
    }
    run.spec.zone = pool->zone;
    Result<long long> n = LaunchCount(market, run, pool);
    if (!n.ok()) return MarketError(n.status());
    if (dry_run) return DryRunError();
    const std::string reservation = market.NewId("r-", 17, true);
    std::vector<std::string> ids;
    for (long long i = 0; i < *n; ++i) {
      Result<std::string> id = aws.RunInstance(run.spec, cause::kUser);
      // Checked above for the whole call; only the first launch can still fail validation.
      if (!id.ok()) return MarketError(id.status());
      ids.push_back(*id);
      state.reservation_of[*id] = reservation;
      if (!run.instance_tags.empty()) state.tags[*id] = run.instance_tags;
    }
    if (Status s = market.AdvanceTo(market.now()); !s.ok()) return MarketError(s);
    const auto by_instance = RequestsByInstance(aws);
    for (const std::string& id : ids) {
      auto it = by_instance.find(id);
      if (it != by_instance.end() && !run.request_tags.empty()) {
        state.tags[it->second->id] = run.request_tags;
      }
    }
    out.Leaf("reservationId", reservation).Leaf("ownerId", market.account_id());
    out.Open("groupSet").Close().Open("instancesSet");
    for (const std::string& id : ids) {
      auto it = by_instance.find(id);
      WriteInstance(out, state, *market.FindInstance(id),
                    it == by_instance.end() ? nullptr : it->second);
    }
    out.Close();
    return std::nullopt;
  });
  if (!result) ctx.Changed();
  return result;
}

}  // namespace

void RegisterRunActions(ActionTable& table) { table["RunInstances"] = &RunInstances; }

}  // namespace lastcall::mock::ec2
