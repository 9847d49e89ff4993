// RunInstances and CreateInstance: preemptible (SpotAsPriceGo, SpotWithPriceLimit) and
// pay-as-you-go (NoSpot) instances through AlibabaFlavor::RunInstances, all `Amount` or none;
// with MinAmount < Amount as many as the market can give, down to MinAmount. Parameters the
// market has no use for (ImageId, SecurityGroupId, VSwitchId, ...) are accepted and ignored.
// ClientToken makes a call idempotent: a retry answers the instances the first call made.
#include <string>
#include <vector>

#include "mockmeta/core/event_log.h"
#include "mockmeta/ecsapi/ecs_action.h"

namespace lastcall::mock::ecs {
namespace {

struct RunParams {
  std::string region;
  std::optional<std::string> zone;
  AlibabaRunRequest run;
  int min_amount = 1;
  std::vector<EcsTag> tags;
  std::optional<std::string> client_token;
  bool dry = false;
};

// Reads what RunInstances and CreateInstance share; `batch`: Amount and MinAmount too.
RunParams ReadRun(EcsParamReader& r, bool batch) {
  RunParams p;
  p.region = r.String("RegionId", true).value_or("");
  p.zone = r.String("ZoneId");
  p.run.instance_type = r.String("InstanceType", true).value_or("");
  if (std::optional<std::string> s = r.String("SpotStrategy"); s && r.ok()) {
    Result<SpotStrategy> v = ParseSpotStrategy(*s);
    if (!v.ok()) r.Fail(FromMarketStatus(v.status()).code, FromMarketStatus(v.status()).message);
    if (v.ok()) p.run.strategy = *v;
  }
  p.run.spot_price_limit = r.Number("SpotPriceLimit");
  if (std::optional<long long> d = r.Integer("SpotDuration", 0, 6); d && r.ok()) {
    if (*d > 1) {
      r.Fail(EcsErrorCode::kInvalidSpotDuration,
             "The specified SpotDuration " + std::to_string(*d) + " is not valid (0 or 1).");
    }
    p.run.spot_duration = static_cast<int>(*d);
  }
  if (std::optional<std::string> s = r.String("SpotInterruptionBehavior"); s && r.ok()) {
    Result<SpotInterruptionBehavior> v = ParseSpotInterruptionBehavior(*s);
    if (!v.ok())
      r.Fail(EcsErrorCode::kInvalidInterruptionBehavior, FromMarketStatus(v.status()).message);
    if (v.ok()) p.run.interruption_behavior = *v;
  }
  if (std::optional<std::string> c = r.String("InstanceChargeType");
      c && r.ok() && *c != "PostPaid") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"InstanceChargeType\" is not valid: the simulation sells "
           "PostPaid (pay-as-you-go and preemptible) instances only.");
  }
  p.run.name = r.String("InstanceName").value_or("");
  if (batch) {
    // Amount outside 1..100 is ECS's InvalidParameter.Amount, not a type error.
    {
      std::optional<long long> amount = r.Integer("Amount", -1000000000, 1000000000);
      std::optional<long long> min = r.Integer("MinAmount", -1000000000, 1000000000);
      const long long n = amount.value_or(1), m = min.value_or(n);
      if (r.ok() && (n < 1 || n > kAliMaxAmount || m < 1 || m > n)) {
        r.Fail(EcsErrorCode::kInvalidAmount,
               "The specified Amount " + std::to_string(n) + " / MinAmount " + std::to_string(m) +
                   " is not valid: 1 <= MinAmount <= Amount <= " + std::to_string(kAliMaxAmount) +
                   ".");
      }
      p.run.amount = static_cast<int>(n);
      p.min_amount = static_cast<int>(m);
    }
  }
  p.tags = r.Tags("Tag", kMaxTagsPerResource);
  p.client_token = r.String("ClientToken");
  if (p.client_token && p.client_token->size() > 64) {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"ClientToken\" is not valid: at most 64 characters.");
  }
  p.dry = r.Bool("DryRun").value_or(false);
  return p;
}

// The zone ECS would pick when none is given: the first in the region selling the type.
MaybeError PickZone(const Market& market, RunParams& p) {
  if (p.zone) {
    p.run.zone = *p.zone;
    return std::nullopt;
  }
  for (const Pool& pool : market.catalog().pools()) {
    if (pool.region == p.region && pool.type == p.run.instance_type) {
      p.run.zone = pool.zone;
      return std::nullopt;
    }
  }
  return EcsError{EcsErrorCode::kInvalidResourceTypeNotSupported,
                  "The specified InstanceType " + Quote(p.run.instance_type) +
                      " is not sold in region " + Quote(p.region) + "."};
}

// Creates the instances (Amount, or fewer down to MinAmount when stock runs short).
Result<std::vector<std::string>> Create(AlibabaFlavor& ali, const RunParams& p) {
  AlibabaRunRequest run = p.run;
  Status last = Status::Ok();
  for (int n = p.run.amount; n >= p.min_amount; --n) {
    run.amount = n;
    Result<std::vector<std::string>> made = ali.RunInstances(run, cause::kUser);
    if (made.ok()) return made;
    last = made.status();
    if (FromMarketStatus(last).code != EcsErrorCode::kOperationDeniedNoStock) break;
  }
  return last;
}

// Checks everything, then creates; `ids` gets the new instances.
// `created_stopped`: CreateInstance's instance is stopped (StopCharging) in the same step.
MaybeError Launch(EcsContext& ctx, RunParams& p, bool created_stopped,
                  std::vector<std::string>& ids, double& price) {
  MaybeError e = ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState& state) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, p.region)) return bad;
    if (MaybeError bad = PickZone(market, p)) return bad;
    const Zone* zone = market.catalog().FindZone(p.run.zone);
    if (zone && zone->region != p.region) {
      return EcsError{EcsErrorCode::kInvalidZoneIdNotFound,
                      "The specified ZoneId " + Quote(p.run.zone) + " is not in region " +
                          Quote(p.region) + "."};
    }
    if (Status s = ali.ValidateRunRequest(p.run); !s.ok()) {
      return FromMarketStatus(s);
    }
    if (p.dry) return DryRunError();
    auto seen =
        p.client_token ? state.client_tokens.find(*p.client_token) : state.client_tokens.end();
    if (seen != state.client_tokens.end()) {
      ids = seen->second;  // a retry: the same instances, nothing new
    } else {
      Result<std::vector<std::string>> made = Create(ali, p);
      if (!made.ok()) return FromMarketStatus(made.status());
      ids = *made;
      if (created_stopped) {
        // Cannot fail: the instance was created Running an instant ago.
        (void)ali.StopInstance(ids[0], StoppedMode::kStopCharging, cause::kUser);
      }
      for (const std::string& id : ids) {
        (void)AddTags(state, id, p.tags);  // fresh ids: at most kMaxTagsPerResource, as read
      }
      if (p.client_token) state.client_tokens[*p.client_token] = ids;
    }
    price = 0;
    for (const std::string& id : ids) {
      if (Result<AlibabaInstanceInfo> i = ali.Describe(id); i.ok()) {
        price += i->creation_price;
      }
    }
    return std::nullopt;
  });
  if (!e) ctx.Changed();
  return e;
}

MaybeError RunInstances(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  RunParams p = ReadRun(r, true);
  if (!r.ok()) return r.error();
  std::vector<std::string> ids;
  double price = 0;
  if (MaybeError e = Launch(ctx, p, false, ids, price)) return e;
  body["InstanceIdSets"] = {{"InstanceIdSet", ids}};
  body["TradePrice"] = price;
  return std::nullopt;
}

// CreateInstance: one instance, left Stopped (StopCharging) as ECS creates it; StartInstance
// then needs stock, as any start does.
MaybeError CreateInstance(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  RunParams p = ReadRun(r, false);
  if (!r.ok()) return r.error();
  std::vector<std::string> ids;
  double price = 0;
  if (MaybeError e = Launch(ctx, p, true, ids, price)) return e;
  body["InstanceId"] = ids[0];
  body["TradePrice"] = price;
  return std::nullopt;
}

}  // namespace

void RegisterRunActions(ActionTable& t) {
  t["RunInstances"] = RunInstances;
  t["CreateInstance"] = CreateInstance;
}

}  // namespace lastcall::mock::ecs
