// The [alibaba] scenario section (../README.md, "Scenario files"):
//
//   [[alibaba.instance]]   RunInstances: zone, type, spot_strategy (default NoSpot),
//                          spot_price_limit (SpotWithPriceLimit only), spot_duration (0|1,
//                          default 1), interruption_behavior (Terminate|Stop), name, count
//                          (Amount, default 1; names get "-1", "-2", ...), at (default: start),
//                          and the instance settings instance_profile (the RAM role), tags,
//                          public_ip, key_name, public_key, user_data, security_groups
//   [[alibaba.action]]     at, kind = release | stop | start | interrupt, instance = a name
//                          declared above; stop takes stopped_mode (KeepCharging by default)
//
// Everything that can be checked at load time is (strategy, limit vs pay-as-you-go, pool,
// names, action after its instance's creation); an instance due at `start` is created during
// the load, so "no stock" or "bid below the market price" are load errors with file:line. Later
// creations and actions are timed actions: their failures land in the event log.
#include <map>
#include <memory>

#include "mockmeta/core/scenario_context.h"

namespace lastcall::mock {

namespace {

std::string Indexed(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// Finds the live (or last) Alibaba instance with this name.
Instance* ByName(Market& market, std::string_view name) {
  Instance* found = nullptr;
  for (const auto& [id, inst] : market.instances()) {
    if (inst.flavor != FlavorKind::kAlibaba || inst.name != name) continue;
    found = market.FindInstance(id);
    if (found->state != InstanceState::kTerminated) return found;
  }
  return found;
}

Result<AlibabaRunRequest> LoadRunRequest(const toml::table& t, const std::string& path,
                                         ScenarioContext& ctx) {
  AlibabaRunRequest req;
  Result<std::string> zone = ctx.String(t, path, "zone");
  if (!zone.ok()) return zone.status();
  req.zone = *zone;
  Result<std::string> type = ctx.String(t, path, "type");
  if (!type.ok()) return type.status();
  req.instance_type = *type;
  if (ctx.Has(t, "spot_strategy")) {
    Result<std::string> s = ctx.String(t, path, "spot_strategy");
    if (!s.ok()) return s.status();
    Result<SpotStrategy> strategy = ParseSpotStrategy(*s);
    if (!strategy.ok()) {
      return ctx.Error(*t.get("spot_strategy"), path, "spot_strategy", strategy.status().message());
    }
    req.strategy = *strategy;
  }
  if (ctx.Has(t, "spot_price_limit")) {
    if (req.strategy != SpotStrategy::kSpotWithPriceLimit) {
      return ctx.Error(*t.get("spot_price_limit"), path, "spot_price_limit",
                       "only allowed with spot_strategy = \"SpotWithPriceLimit\"");
    }
    Result<double> limit = ctx.Number(t, path, "spot_price_limit");
    if (!limit.ok()) return limit.status();
    req.spot_price_limit = *limit;
  }
  if (ctx.Has(t, "spot_duration")) {
    Result<int64_t> d = ctx.Integer(t, path, "spot_duration");
    if (!d.ok()) return d.status();
    if (*d != 0 && *d != 1) {
      return ctx.Error(*t.get("spot_duration"), path, "spot_duration", "must be 0 or 1");
    }
    req.spot_duration = static_cast<int>(*d);
  }
  if (ctx.Has(t, "interruption_behavior")) {
    Result<std::string> s = ctx.String(t, path, "interruption_behavior");
    if (!s.ok()) return s.status();
    Result<SpotInterruptionBehavior> b = ParseSpotInterruptionBehavior(*s);
    if (!b.ok()) {
      return ctx.Error(*t.get("interruption_behavior"), path, "interruption_behavior",
                       b.status().message());
    }
    req.interruption_behavior = *b;
  }
  if (ctx.Has(t, "name")) {
    Result<std::string> n = ctx.String(t, path, "name");
    if (!n.ok()) return n.status();
    req.name = *n;
  }
  if (ctx.Has(t, "count")) {
    Result<int64_t> c = ctx.Integer(t, path, "count");
    if (!c.ok()) return c.status();
    if (*c < 1 || *c > kAliMaxAmount) {
      return ctx.Error(*t.get("count"), path, "count",
                       "must be in [1, " + std::to_string(kAliMaxAmount) + "]");
    }
    req.amount = static_cast<int>(*c);
  }
  if (Status s = ctx.world().alibaba().ValidateRunRequest(req); !s.ok()) {
    return ctx.Error(t, path, "", CloudErrorText(s));
  }
  return req;
}

// Instance name -> when it is created (for checking the actions).
using DeclaredNames = std::map<std::string, WallTime, std::less<>>;

// Records the names an [[alibaba.instance]] gives its instances ("name", or "name-1".."name-N"
// for a count); a name used twice is an error at `t`'s "name".
Status DeclareNames(const AlibabaRunRequest& req, WallTime at, const toml::table& t,
                    const std::string& path, ScenarioContext& ctx, DeclaredNames& names) {
  if (req.name.empty()) return Status::Ok();
  std::vector<std::string> declared;
  if (req.amount == 1) {
    declared.push_back(req.name);
  } else {
    for (int k = 1; k <= req.amount; ++k) declared.push_back(req.name + "-" + std::to_string(k));
  }
  for (const std::string& n : declared) {
    if (!names.emplace(n, at).second) {
      return ctx.Error(*t.get("name"), path, "name", "instance name \"" + n + "\" is used twice");
    }
  }
  return Status::Ok();
}

// One [[alibaba.instance]]: launched now, or scheduled for its "at".
Status LoadInstance(const toml::table& t, const std::string& path, ScenarioContext& ctx,
                    DeclaredNames& names) {
  LASTCALL_RETURN_IF_ERROR(
      ctx.CheckKeys(t, path,
                    {"zone", "type", "spot_strategy", "spot_price_limit", "spot_duration",
                     "interruption_behavior", "name", "count", "at", "instance_profile", "tags",
                     "public_ip", "key_name", "public_key", "user_data", "security_groups"}));
  Market& market = ctx.market();
  // Captured by the timed action: the World owns both the flavor and the Market holding them.
  AlibabaFlavor& ali = ctx.world().alibaba();
  Result<AlibabaRunRequest> req = LoadRunRequest(t, path, ctx);
  if (!req.ok()) return req.status();
  LASTCALL_RETURN_IF_ERROR(ReadInstanceSettings(t, path, ctx, &req->settings));
  WallTime at = market.start();
  if (ctx.Has(t, "at")) {
    Result<WallTime> a = ctx.Time(t, path, "at");
    if (!a.ok()) return a.status();
    at = *a;
  }
  LASTCALL_RETURN_IF_ERROR(DeclareNames(*req, at, t, path, ctx, names));
  if (at == market.now()) {
    Result<std::vector<std::string>> ids = ali.RunInstances(*req, cause::kScenario);
    if (!ids.ok()) return ctx.Error(t, path, "", CloudErrorText(ids.status()));
    return Status::Ok();
  }
  TimedAction a;
  a.at = at;
  a.label = ctx.Where(t) + " alibaba.instance";
  a.call = [&ali, req = *req](Market&, WallTime) -> Status {
    Result<std::vector<std::string>> ids = ali.RunInstances(req, cause::kSchedule);
    return ids.ok() ? Status::Ok() : ids.status();
  };
  Result<uint64_t> seq = market.Schedule(std::move(a));
  if (!seq.ok()) return ctx.Error(t, path, "", CloudErrorText(seq.status()));
  return Status::Ok();
}

// An action's "kind" and the keys it allows; an unknown kind is an error at "kind".
Result<std::string> LoadActionKind(const toml::table& t, const std::string& path,
                                   ScenarioContext& ctx) {
  Result<std::string> kind = ctx.String(t, path, "kind");
  if (!kind.ok()) return kind.status();
  const std::string& k = *kind;
  if (k == "stop") {
    LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"at", "kind", "instance", "stopped_mode"}));
  } else if (k == "release" || k == "start" || k == "interrupt") {
    LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"at", "kind", "instance"}));
  } else {
    return ctx.Error(*t.get("kind"), path, "kind",
                     "\"" + k + "\" is not one of release, stop, start, interrupt");
  }
  return kind;
}

// One [[alibaba.action]] on a named instance, scheduled for its "at" (not before the instance
// is created).
Status LoadAction(const toml::table& t, const std::string& path, ScenarioContext& ctx,
                  const DeclaredNames& names) {
  AlibabaFlavor& ali = ctx.world().alibaba();
  Result<std::string> kind = LoadActionKind(t, path, ctx);
  if (!kind.ok()) return kind.status();
  Result<WallTime> at = ctx.Time(t, path, "at");
  if (!at.ok()) return at.status();
  Result<std::string> name = ctx.String(t, path, "instance");
  if (!name.ok()) return name.status();
  auto declared = names.find(*name);
  if (declared == names.end()) {
    return ctx.Error(*t.get("instance"), path, "instance",
                     "no [[alibaba.instance]] is named \"" + *name + "\"");
  }
  if (*at < declared->second) {
    return ctx.Error(*t.get("at"), path, "at", "is before instance \"" + *name + "\" is created");
  }
  StoppedMode mode = StoppedMode::kKeepCharging;
  if (ctx.Has(t, "stopped_mode")) {
    Result<std::string> s = ctx.String(t, path, "stopped_mode");
    if (!s.ok()) return s.status();
    Result<StoppedMode> m = ParseStoppedMode(*s);
    if (!m.ok()) {
      return ctx.Error(*t.get("stopped_mode"), path, "stopped_mode", m.status().message());
    }
    mode = *m;
  }
  TimedAction a;
  a.at = *at;
  a.label = ctx.Where(t) + " alibaba." + *kind + " " + *name;
  a.call = [&ali, k = *kind, name = *name, mode](Market& m, WallTime) -> Status {
    Instance* inst = ByName(m, name);
    if (!inst) return NotFound("no Alibaba instance named \"" + name + "\" exists (yet)");
    if (k == "release") return ali.DeleteInstance(inst->id, true, cause::kSchedule);
    if (k == "stop") return ali.StopInstance(inst->id, mode, cause::kSchedule);
    if (k == "start") return ali.StartInstance(inst->id, cause::kSchedule);
    return ali.ForceRecycle(inst->id, cause::kService);
  };
  Result<uint64_t> seq = ctx.market().Schedule(std::move(a));
  if (!seq.ok()) return ctx.Error(t, path, "", CloudErrorText(seq.status()));
  return Status::Ok();
}

}  // namespace

Status LoadAlibabaScenario(const toml::table& section, ScenarioContext& ctx) {
  LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(section, "alibaba", {"instance", "action"}));
  DeclaredNames names;
  Result<const toml::array*> instances = ctx.TableArray(section, "alibaba", "instance");
  if (!instances.ok()) return instances.status();
  for (size_t i = 0; *instances && i < (*instances)->size(); ++i) {
    LASTCALL_RETURN_IF_ERROR(LoadInstance(*(*instances)->get(i)->as_table(),
                                          Indexed("alibaba.instance", i), ctx, names));
  }
  Result<const toml::array*> actions = ctx.TableArray(section, "alibaba", "action");
  if (!actions.ok()) return actions.status();
  for (size_t i = 0; *actions && i < (*actions)->size(); ++i) {
    LASTCALL_RETURN_IF_ERROR(
        LoadAction(*(*actions)->get(i)->as_table(), Indexed("alibaba.action", i), ctx, names));
  }
  return Status::Ok();
}

}  // namespace lastcall::mock
