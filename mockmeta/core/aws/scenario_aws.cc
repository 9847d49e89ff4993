// [aws] scenario section (../README.md, "Scenario files"):
//   [[aws.spot_request]]    RequestSpotInstances: type, zone, max_price, count, request_type,
//                           valid_from, valid_until, launch_group, availability_zone_group,
//                           block_duration_minutes,
//                           interruption_behavior, name, at
//   [[aws.instance]]        RunInstances: type, zone, market = spot|on-demand, name, max_price,
//                           request_type, interruption_behavior, at
//                           Both also take the instance settings (scenario_settings.cc):
//                           instance_profile, tags, metadata_tags, public_ip, key_name,
//                           public_key, user_data, security_groups, subnet
//   [[aws.scheduled_event]] instance (name), code, not_before, not_after, description, at,
//                           complete_at, cancel_at
//   [[aws.action]]          at, kind = terminate|stop|start|interrupt|rebalance|cancel|lifecycle,
//                           instance (name) | spot_request (name); interrupt: action, lead;
//                           lifecycle: state
// Everything is checked at load time (names must be declared by an [[aws.instance]] or
// [[aws.spot_request]]); things due at `start` happen at load, later ones are timed actions
// whose failures go to the event log.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "mockmeta/core/scenario_context.h"

namespace lastcall::mock {

namespace {

using Names = std::map<std::string, std::vector<std::string>>;  // request name -> request ids

std::string Indexed(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

Result<std::string> OptString(const toml::table& t, const std::string& path, std::string_view key,
                              ScenarioContext& ctx, std::string fallback) {
  if (!ctx.Has(t, key)) return fallback;
  return ctx.String(t, path, key);
}

// Reads an optional string field into `out`, which keeps `fallback` when the key is absent.
Status ReadOptString(const toml::table& t, const std::string& path, std::string_view key,
                     ScenarioContext& ctx, std::string fallback, std::string* out) {
  Result<std::string> v = OptString(t, path, key, ctx, std::move(fallback));
  if (!v.ok()) return v.status();
  *out = std::move(*v);
  return Status::Ok();
}

// Reads an optional field whose string names an enum value; `parse`'s error (which lists the
// accepted names) is reported at the field.
template <typename T>
Status ReadOptEnum(const toml::table& t, const std::string& path, std::string_view key,
                   ScenarioContext& ctx, std::string fallback, Result<T> (*parse)(std::string_view),
                   T* out) {
  std::string name;
  LASTCALL_RETURN_IF_ERROR(ReadOptString(t, path, key, ctx, std::move(fallback), &name));
  Result<T> v = parse(name);
  if (!v.ok()) return ctx.Error(*t.get(key), path, key, v.status().message());
  *out = *v;
  return Status::Ok();
}

Result<WallTime> OptTime(const toml::table& t, const std::string& path, std::string_view key,
                         ScenarioContext& ctx) {
  if (!ctx.Has(t, key)) return ctx.market().start();
  return ctx.Time(t, path, key);
}

// Runs `call` on the world's AWS flavor now when `at` is the load instant, else schedules it.
Status AtOrNow(ScenarioContext& ctx, const toml::table& t, const std::string& path, WallTime at,
               std::string label, std::function<Status(AwsFlavor&)> call) {
  Market& m = ctx.market();
  AwsFlavor& aws = ctx.world().aws();
  if (at == m.now()) {
    Status s = call(aws);
    if (!s.ok()) return ctx.Error(t, path, "", s.message());
    return Status::Ok();
  }
  TimedAction a;
  a.at = at;
  a.kind = TimedAction::Kind::kCall;
  // The World owns both the flavor and the Market that holds this action.
  a.call = [&aws, call = std::move(call)](Market&, WallTime) { return call(aws); };
  a.label = std::move(label);
  Result<uint64_t> seq = m.Schedule(std::move(a));
  if (!seq.ok()) return ctx.Error(t, path, "", seq.status().message());
  return Status::Ok();
}

Result<std::string> InstanceIdByName(const AwsFlavor& aws, const std::string& name) {
  const Instance* inst = aws.FindInstanceByName(name);
  if (!inst) {
    return CloudError(StatusCode::kNotFound, kInvalidInstanceIdNotFound,
                      "no AWS instance named \"" + name + "\" (not launched yet?)");
  }
  return inst->id;
}

// The spot request's spec from one [[aws.spot_request]] table (the keys EC2's
// RequestSpotInstances takes, and the instance settings).
Result<SpotRequestSpec> ReadSpotRequestSpec(const toml::table& t, const std::string& path,
                                            ScenarioContext& ctx) {
  LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path,
                                         {"type",
                                          "zone",
                                          "max_price",
                                          "count",
                                          "request_type",
                                          "valid_from",
                                          "valid_until",
                                          "launch_group",
                                          "availability_zone_group",
                                          "block_duration_minutes",
                                          "interruption_behavior",
                                          "name",
                                          "at",
                                          "instance_profile",
                                          "tags",
                                          "metadata_tags",
                                          "public_ip",
                                          "key_name",
                                          "public_key",
                                          "user_data",
                                          "security_groups",
                                          "subnet"}));
  SpotRequestSpec spec;
  Result<std::string> type = ctx.String(t, path, "type");
  if (!type.ok()) return type.status();
  spec.instance_type = *type;
  LASTCALL_RETURN_IF_ERROR(ReadOptString(t, path, "zone", ctx, "", &spec.zone));
  if (ctx.Has(t, "max_price")) {
    Result<double> p = ctx.Number(t, path, "max_price");
    if (!p.ok()) return p.status();
    spec.max_price = *p;
  }
  if (ctx.Has(t, "count")) {
    Result<int64_t> n = ctx.Integer(t, path, "count");
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > 1000) return ctx.Error(*t.get("count"), path, "count", "must be 1..1000");
    spec.instance_count = static_cast<int>(*n);
  }
  LASTCALL_RETURN_IF_ERROR(
      ReadOptEnum(t, path, "request_type", ctx, "one-time", &ParseSpotRequestType, &spec.type));
  for (auto [key, field] :
       {std::pair{"valid_from", &spec.valid_from}, std::pair{"valid_until", &spec.valid_until}}) {
    if (!ctx.Has(t, key)) continue;
    Result<WallTime> v = ctx.Time(t, path, key);
    if (!v.ok()) return v.status();
    *field = *v;
  }
  LASTCALL_RETURN_IF_ERROR(ReadOptString(t, path, "launch_group", ctx, "", &spec.launch_group));
  LASTCALL_RETURN_IF_ERROR(
      ReadOptString(t, path, "availability_zone_group", ctx, "", &spec.availability_zone_group));
  if (ctx.Has(t, "block_duration_minutes")) {
    Result<int64_t> b = ctx.Integer(t, path, "block_duration_minutes");
    if (!b.ok()) return b.status();
    if (*b < 0 || *b > 100000)
      return ctx.Error(*t.get("block_duration_minutes"), path, "block_duration_minutes",
                       "must be 60, 120, 180, 240, 300 or 360");
    spec.block_duration_minutes = static_cast<int>(*b);
  }
  LASTCALL_RETURN_IF_ERROR(ReadOptEnum(t, path, "interruption_behavior", ctx, "terminate",
                                       &ParseInterruptionBehavior, &spec.interruption_behavior));
  LASTCALL_RETURN_IF_ERROR(ReadOptString(t, path, "name", ctx, "", &spec.name));
  LASTCALL_RETURN_IF_ERROR(ReadInstanceSettings(t, path, ctx, &spec.settings));
  return spec;
}

Status LoadSpotRequests(const toml::table& section, ScenarioContext& ctx,
                        const std::shared_ptr<Names>& names, std::set<std::string>& declared) {
  Result<const toml::array*> arr = ctx.TableArray(section, "aws", "spot_request");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("aws.spot_request", i);
    Result<SpotRequestSpec> read = ReadSpotRequestSpec(t, path, ctx);
    if (!read.ok()) return read.status();
    const SpotRequestSpec& spec = *read;
    Result<WallTime> at = OptTime(t, path, "at", ctx);
    if (!at.ok()) return at.status();
    if (Status s = ctx.world().aws().ValidateSpec(spec); !s.ok()) {
      return ctx.Error(t, path, "", s.message());
    }
    if (!spec.name.empty()) declared.insert(spec.name);
    LASTCALL_RETURN_IF_ERROR(AtOrNow(ctx, t, path, *at, ctx.Where(t) + " aws.spot_request",
                                     [spec, names](AwsFlavor& aws) -> Status {
                                       Result<std::vector<std::string>> ids =
                                           aws.RequestSpotInstances(spec, cause::kScenario);
                                       if (!ids.ok()) return ids.status();
                                       auto& list = (*names)[spec.name];
                                       list.insert(list.end(), ids->begin(), ids->end());
                                       return Status::Ok();
                                     }));
  }
  return Status::Ok();
}

Status LoadInstances(const toml::table& section, ScenarioContext& ctx,
                     std::set<std::string>& declared) {
  Result<const toml::array*> arr = ctx.TableArray(section, "aws", "instance");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("aws.instance", i);
    LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(
        t, path,
        {"type", "zone", "market", "name", "max_price", "request_type", "interruption_behavior",
         "at", "instance_profile", "tags", "metadata_tags", "public_ip", "key_name", "public_key",
         "user_data", "security_groups", "subnet"}));
    RunInstanceSpec spec;
    Result<std::string> type = ctx.String(t, path, "type");
    if (!type.ok()) return type.status();
    spec.instance_type = *type;
    Result<std::string> zone = ctx.String(t, path, "zone");
    if (!zone.ok()) return zone.status();
    spec.zone = *zone;
    Result<std::string> market = OptString(t, path, "market", ctx, "spot");
    if (!market.ok()) return market.status();
    if (*market != "spot" && *market != "on-demand") {
      return ctx.Error(*t.get("market"), path, "market", "must be spot or on-demand");
    }
    spec.spot = *market == "spot";
    LASTCALL_RETURN_IF_ERROR(ReadOptString(t, path, "name", ctx, "", &spec.name));
    LASTCALL_RETURN_IF_ERROR(ReadInstanceSettings(t, path, ctx, &spec.settings));
    if (ctx.Has(t, "max_price")) {
      Result<double> p = ctx.Number(t, path, "max_price");
      if (!p.ok()) return p.status();
      if (*p <= 0) return ctx.Error(*t.get("max_price"), path, "max_price", "must be > 0");
      spec.max_price = *p;
    }
    LASTCALL_RETURN_IF_ERROR(ReadOptEnum(t, path, "request_type", ctx, "one-time",
                                         &ParseSpotRequestType, &spec.spot_type));
    LASTCALL_RETURN_IF_ERROR(ReadOptEnum(t, path, "interruption_behavior", ctx, "terminate",
                                         &ParseInterruptionBehavior, &spec.interruption_behavior));
    if (spec.interruption_behavior != InterruptionBehavior::kTerminate &&
        spec.spot_type != SpotRequestType::kPersistent) {
      return ctx.Error(t, path, "interruption_behavior",
                       "stop and hibernate need request_type = \"persistent\"");
    }
    if (!ctx.market().catalog().FindType(spec.instance_type))
      return ctx.Error(*t.get("type"), path, "type", "unknown instance type \"" + *type + "\"");
    if (!ctx.market().catalog().FindZone(spec.zone))
      return ctx.Error(*t.get("zone"), path, "zone", "unknown zone \"" + *zone + "\"");
    Result<WallTime> at = OptTime(t, path, "at", ctx);
    if (!at.ok()) return at.status();
    if (!spec.name.empty()) declared.insert(spec.name);
    LASTCALL_RETURN_IF_ERROR(AtOrNow(ctx, t, path, *at, ctx.Where(t) + " aws.instance",
                                     [spec](AwsFlavor& aws) -> Status {
                                       return aws.RunInstance(spec, cause::kScenario).status();
                                     }));
  }
  return Status::Ok();
}

Status CheckName(const toml::table& t, const std::string& path, std::string_view key,
                 ScenarioContext& ctx, const std::set<std::string>& declared, std::string* out) {
  Result<std::string> name = ctx.String(t, path, key);
  if (!name.ok()) return name.status();
  if (!declared.count(*name)) {
    return ctx.Error(*t.get(key), path, key,
                     "no [[aws.instance]] or [[aws.spot_request]] is named \"" + *name + "\"");
  }
  *out = *name;
  return Status::Ok();
}

Status LoadScheduledEvents(const toml::table& section, ScenarioContext& ctx,
                           const std::set<std::string>& declared) {
  Result<const toml::array*> arr = ctx.TableArray(section, "aws", "scheduled_event");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("aws.scheduled_event", i);
    LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path,
                                           {"instance", "code", "not_before", "not_after",
                                            "description", "at", "complete_at", "cancel_at"}));
    std::string name;
    LASTCALL_RETURN_IF_ERROR(CheckName(t, path, "instance", ctx, declared, &name));
    ScheduledEventSpec spec;
    Result<std::string> code = ctx.String(t, path, "code");
    if (!code.ok()) return code.status();
    spec.code = *code;
    Result<WallTime> nb = ctx.Time(t, path, "not_before");
    if (!nb.ok()) return nb.status();
    spec.not_before = *nb;
    if (ctx.Has(t, "not_after")) {
      Result<WallTime> na = ctx.Time(t, path, "not_after");
      if (!na.ok()) return na.status();
      if (*na <= *nb)
        return ctx.Error(*t.get("not_after"), path, "not_after", "must be after not_before");
      spec.not_after = *na;
    }
    Result<std::string> desc = OptString(t, path, "description", ctx, "");
    if (!desc.ok()) return desc.status();
    spec.description = *desc;
    if (!IsScheduledEventCode(spec.code)) {
      return ctx.Error(*t.get("code"), path, "code",
                       "must be one of instance-reboot, system-reboot, system-maintenance, "
                       "instance-retirement, instance-stop");
    }
    Result<WallTime> at = OptTime(t, path, "at", ctx);
    if (!at.ok()) return at.status();
    if (ctx.Has(t, "complete_at") && ctx.Has(t, "cancel_at")) {
      return ctx.Error(t, path, "cancel_at", "an event is either completed or canceled, not both");
    }
    auto event_id = std::make_shared<std::string>();
    LASTCALL_RETURN_IF_ERROR(AtOrNow(ctx, t, path, *at, ctx.Where(t) + " aws.scheduled_event",
                                     [name, spec, event_id](AwsFlavor& aws) -> Status {
                                       Result<std::string> id = InstanceIdByName(aws, name);
                                       if (!id.ok()) return id.status();
                                       Result<std::string> e =
                                           aws.CreateScheduledEvent(*id, spec, cause::kService);
                                       if (!e.ok()) return e.status();
                                       *event_id = *e;
                                       return Status::Ok();
                                     }));
    for (std::string_view key : {"complete_at", "cancel_at"}) {
      if (!ctx.Has(t, key)) continue;
      Result<WallTime> when = ctx.Time(t, path, key);
      if (!when.ok()) return when.status();
      if (*when < *at) return ctx.Error(*t.get(key), path, key, "must not be before at");
      const bool complete = key == "complete_at";
      LASTCALL_RETURN_IF_ERROR(
          AtOrNow(ctx, t, path, *when, ctx.Where(t) + " aws.scheduled_event." + std::string(key),
                  [name, event_id, complete](AwsFlavor& aws) -> Status {
                    Result<std::string> id = InstanceIdByName(aws, name);
                    if (!id.ok()) return id.status();
                    return complete ? aws.CompleteScheduledEvent(*id, *event_id, cause::kService)
                                    : aws.CancelScheduledEvent(*id, *event_id, cause::kService);
                  }));
    }
  }
  return Status::Ok();
}

// One [[aws.action]], read and checked at load time; RunAction performs it when it is due.
struct AwsAction {
  std::string kind;  // terminate, stop, start, interrupt, rebalance, cancel or lifecycle
  std::string name;  // the scenario name of its instance (or, for cancel, its spot request)
  InterruptionBehavior action = InterruptionBehavior::kTerminate;  // interrupt
  Duration lead = AwsFlavor::kNoticeLead;                          // interrupt
  std::string state;                                               // lifecycle
};

// The keys each kind of action takes; an unknown kind is the error.
Status CheckActionKeys(const toml::table& t, const std::string& path, const std::string& k,
                       ScenarioContext& ctx) {
  if (k == "interrupt") return ctx.CheckKeys(t, path, {"at", "kind", "instance", "action", "lead"});
  if (k == "lifecycle") return ctx.CheckKeys(t, path, {"at", "kind", "instance", "state"});
  if (k == "cancel") return ctx.CheckKeys(t, path, {"at", "kind", "spot_request"});
  if (k == "terminate" || k == "stop" || k == "start" || k == "rebalance") {
    return ctx.CheckKeys(t, path, {"at", "kind", "instance"});
  }
  return ctx.Error(*t.get("kind"), path, "kind",
                   "\"" + k +
                       "\" is not one of terminate, stop, start, interrupt, rebalance, "
                       "cancel, lifecycle");
}

// An interrupt's behavior and lead time.
Status ReadInterrupt(const toml::table& t, const std::string& path, ScenarioContext& ctx,
                     AwsAction& a) {
  Result<std::string> behavior = OptString(t, path, "action", ctx, "terminate");
  if (!behavior.ok()) return behavior.status();
  Result<InterruptionBehavior> b = ParseInterruptionBehavior(*behavior);
  if (!b.ok()) {
    return ctx.Error(*t.get("action"), path, "action", "must be terminate, stop or hibernate");
  }
  a.action = *b;
  if (!ctx.Has(t, "lead")) return Status::Ok();
  Result<Duration> d = ctx.DurationValue(t, path, "lead");
  if (!d.ok()) return d.status();
  if (*d > std::chrono::hours(6))
    return ctx.Error(*t.get("lead"), path, "lead", "must be at most 6h");
  a.lead = *d;
  return Status::Ok();
}

// A lifecycle action's target state (Auto Scaling's names).
Status ReadLifecycleState(const toml::table& t, const std::string& path, ScenarioContext& ctx,
                          AwsAction& a) {
  Result<std::string> s = ctx.String(t, path, "state");
  if (!s.ok()) return s.status();
  if (!IsTargetLifecycleState(*s)) {
    return ctx.Error(*t.get("state"), path, "state",
                     "\"" + *s +
                         "\" is not one of InService, Terminated, Detached, Standby, "
                         "Warmed:Hibernated, Warmed:Running, Warmed:Stopped, Warmed:Terminated");
  }
  a.state = *s;
  return Status::Ok();
}

Status RunAction(AwsFlavor& aws, const AwsAction& a, const Names& names) {
  if (a.kind == "cancel") {
    auto it = names.find(a.name);
    if (it == names.end() || it->second.empty()) {
      return CloudError(StatusCode::kNotFound, "InvalidSpotInstanceRequestID.NotFound",
                        "no spot request named \"" + a.name + "\" (not submitted yet?)");
    }
    return aws.CancelSpotInstanceRequests(it->second, cause::kSchedule);
  }
  Result<std::string> id = InstanceIdByName(aws, a.name);
  if (!id.ok()) return id.status();
  if (a.kind == "terminate") return aws.TerminateInstance(*id, cause::kSchedule);
  if (a.kind == "stop") return aws.StopInstance(*id, cause::kSchedule);
  if (a.kind == "start") return aws.StartInstance(*id, cause::kSchedule);
  if (a.kind == "rebalance") return aws.ForceRebalance(*id, cause::kService);
  if (a.kind == "lifecycle") return aws.SetTargetLifecycleState(*id, a.state, cause::kSchedule);
  return aws.ForceInterruption(*id, a.action, a.lead, cause::kService);
}

Status LoadActions(const toml::table& section, ScenarioContext& ctx,
                   const std::shared_ptr<Names>& names, const std::set<std::string>& declared) {
  Result<const toml::array*> arr = ctx.TableArray(section, "aws", "action");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("aws.action", i);
    Result<std::string> kind = ctx.String(t, path, "kind");
    if (!kind.ok()) return kind.status();
    AwsAction a;
    a.kind = *kind;
    LASTCALL_RETURN_IF_ERROR(CheckActionKeys(t, path, a.kind, ctx));
    Result<WallTime> at = ctx.Time(t, path, "at");
    if (!at.ok()) return at.status();
    LASTCALL_RETURN_IF_ERROR(CheckName(t, path, a.kind == "cancel" ? "spot_request" : "instance",
                                       ctx, declared, &a.name));
    if (a.kind == "interrupt") LASTCALL_RETURN_IF_ERROR(ReadInterrupt(t, path, ctx, a));
    if (a.kind == "lifecycle") LASTCALL_RETURN_IF_ERROR(ReadLifecycleState(t, path, ctx, a));
    LASTCALL_RETURN_IF_ERROR(
        AtOrNow(ctx, t, path, *at, ctx.Where(t) + " aws.action " + a.kind,
                [a, names](AwsFlavor& aws) { return RunAction(aws, a, *names); }));
  }
  return Status::Ok();
}

}  // namespace

Status LoadAwsScenario(const toml::table& section, ScenarioContext& ctx) {
  LASTCALL_RETURN_IF_ERROR(
      ctx.CheckKeys(section, "aws", {"spot_request", "instance", "scheduled_event", "action"}));
  auto names = std::make_shared<Names>();
  std::set<std::string> declared;
  LASTCALL_RETURN_IF_ERROR(LoadInstances(section, ctx, declared));
  LASTCALL_RETURN_IF_ERROR(LoadSpotRequests(section, ctx, names, declared));
  LASTCALL_RETURN_IF_ERROR(LoadScheduledEvents(section, ctx, declared));
  return LoadActions(section, ctx, names, declared);
}

}  // namespace lastcall::mock
