// Control routes of the Alibaba flavor: RunInstances, DescribeInstances, Stop / Start / Delete,
// the forced release notice, DescribeSpotAdvice and billing. Each is a thin JSON <-> AlibabaFlavor
// call under ControlApi::host().With(...): the body is read strictly first (JsonFields), then the
// flavor validates and applies all or nothing, and its errors keep Alibaba's codes
// (InvalidSpotPriceLimit.LowerThanPublicPrice, OperationDenied.NoStock, ...). Instances are shown
// in DescribeInstances' words (Status, OperationLocks.LockReason[] = Recycling, ...).
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/event_log.h"
#include "mockmeta/core/world.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// The request field an Alibaba error code is about, so errors name the field the caller sent.
std::string FieldForCode(std::string_view code) {
  if (code == kAliInvalidAmount) return "amount";
  if (code == kAliInvalidZone) return "zone";
  if (code == kAliInvalidType || code == kAliTypeNotInZone) return "type";
  if (code == kAliInvalidSpotDuration) return "spot_duration";
  if (code == kAliInvalidSpotStrategy) return "spot_strategy";
  if (code == kAliMissingSpotPriceLimit || code == kAliInvalidSpotPriceLimit ||
      code == kAliLowerThanPublicPrice) {
    return "spot_price_limit";
  }
  if (code == kAliInvalidInterruptionBehavior) return "interruption_behavior";
  if (code == kAliInvalidStoppedMode) return "stopped_mode";
  return "";
}

ApiError AliError(const Status& s) { return ErrorFromStatus(s, FieldForCode(CloudErrorCode(s))); }

// Strict boolean query parameters; every other key is unknown.
ApiResult<std::map<std::string, bool>> ReadBoolQuery(const ControlRequest& req,
                                                     const std::vector<std::string>& keys) {
  std::map<std::string, bool> out;
  for (const auto& [key, value] : req.query) {
    bool known = false;
    for (const std::string& k : keys) known = known || k == key;
    if (!known) {
      std::string list;
      for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
      return UnknownQueryParameter(key, "expected " + list);
    }
    if (value != "true" && value != "false") {
      return QueryError(key, "\"" + value + "\" must be true or false");
    }
    out[key] = value == "true";
  }
  return out;
}

// One instance, in a Market::With callback, or a 404 with Alibaba's code.
HttpResponse DescribeOne(World& world, const std::string& id, int status = 200) {
  Result<AlibabaInstanceInfo> info = world.alibaba().Describe(id);
  if (!info.ok()) return ErrorResponse(ErrorFromStatus(info.status()));
  return JsonResponse(status, AlibabaInstanceJson(*info));
}

// Runs `action` on instance `id` and answers with the instance as it is after it (or the
// action's error); then lets parked event waiters see what changed.
HttpResponse ActOnInstance(ControlApi& api, const std::string& id,
                           const std::function<Status(AlibabaFlavor&)>& action) {
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Status s = action(world.alibaba());
    if (!s.ok()) return ErrorResponse(ErrorFromStatus(s));
    return DescribeOne(world, id);
  });
  api.Tick();
  return out;
}

// RunInstances' body.
struct AlibabaRun {
  AlibabaRunRequest run;
  std::optional<std::string> tokens;
};

ApiResult<AlibabaRun> ParseAlibabaRun(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "",
               {"zone", "type", "spot_strategy", "spot_price_limit", "spot_duration",
                "interruption_behavior", "name", "amount", "http_tokens"});
  std::optional<std::string> zone = f.String("zone", true);
  std::optional<std::string> type = f.String("type", true);
  std::optional<std::string> strategy = f.String("spot_strategy");
  std::optional<double> limit = f.Number("spot_price_limit", 0, kMaxPrice);
  std::optional<int64_t> duration = f.Integer("spot_duration", 0, 1);
  std::optional<std::string> behavior = f.String("interruption_behavior");
  std::optional<std::string> name = f.String("name");
  std::optional<int64_t> amount = f.Integer("amount", 1, kAliMaxAmount);
  AlibabaRun r;
  r.tokens = f.String("http_tokens");
  if (f.ok() && strategy) {
    Result<SpotStrategy> s = ParseSpotStrategy(*strategy);
    if (!s.ok()) return ErrorFromStatus(s.status(), "spot_strategy");
    r.run.strategy = *s;
  }
  if (f.ok() && behavior) {
    Result<SpotInterruptionBehavior> b = ParseSpotInterruptionBehavior(*behavior);
    if (!b.ok()) return ErrorFromStatus(b.status(), "interruption_behavior");
    r.run.interruption_behavior = *b;
  }
  if (f.ok() && r.tokens && *r.tokens != "required" && *r.tokens != "optional") {
    f.Fail("invalid_value", "http_tokens", "must be \"required\" or \"optional\"");
  }
  if (!f.ok()) return f.error();
  r.run.zone = *zone;
  r.run.instance_type = *type;
  r.run.spot_price_limit = limit;
  if (duration) r.run.spot_duration = static_cast<int>(*duration);
  r.run.name = name.value_or("");
  r.run.amount = static_cast<int>(amount.value_or(1));
  return r;
}

// RunInstances: `amount` instances or none.
HttpResponse RunInstances(ControlApi& api, const ControlRequest& req) {
  ApiResult<AlibabaRun> r = ParseAlibabaRun(req);
  if (!r.ok()) return ErrorResponse(r.error());
  std::vector<std::string> ids;
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Result<std::vector<std::string>> made = world.alibaba().RunInstances(r->run, cause::kUser);
    if (!made.ok()) return ErrorResponse(AliError(made.status()));
    ids = *made;
    json list = json::array();
    for (const std::string& id : ids) {
      Result<AlibabaInstanceInfo> info = world.alibaba().Describe(id);
      if (info.ok()) list.push_back(AlibabaInstanceJson(*info));
    }
    return JsonResponse(
        201, {{"InstanceIdSets", {{"InstanceIdSet", ids}}}, {"Instances", {{"Instance", list}}}});
  });
  if (r->tokens) {
    for (const std::string& id : ids) api.SetTokensRequired(id, *r->tokens == "required");
  }
  api.Tick();
  return out;
}

// DescribeInstances: every Alibaba instance (released ones with include_released=true).
HttpResponse DescribeInstances(ControlApi& api, const ControlRequest& req) {
  ApiResult<std::map<std::string, bool>> q = ReadBoolQuery(req, {"include_released"});
  if (!q.ok()) return ErrorResponse(q.error());
  const bool include_released = (*q)["include_released"];
  return api.host().WithWorld([&](World& world, VirtualClock&) {
    json list = json::array();
    for (const AlibabaInstanceInfo& i : world.alibaba().DescribeAll(include_released)) {
      list.push_back(AlibabaInstanceJson(i));
    }
    return JsonResponse(200, {{"TotalCount", list.size()}, {"Instances", {{"Instance", list}}}});
  });
}

// StopInstance: {"stopped_mode":"KeepCharging"|"StopCharging"} (default KeepCharging).
HttpResponse StopInstance(ControlApi& api, const ControlRequest& req) {
  const std::string& id = req.Param("id");
  ApiResult<json> body = req.JsonBody(true);
  if (!body.ok()) return ErrorResponse(body.error());
  JsonFields f(*body, "", {"stopped_mode"});
  std::optional<std::string> mode_s = f.String("stopped_mode");
  if (!f.ok()) return ErrorResponse(f.error());
  StoppedMode mode = StoppedMode::kKeepCharging;
  if (mode_s) {
    Result<StoppedMode> m = ParseStoppedMode(*mode_s);
    if (!m.ok()) return ErrorResponse(ErrorFromStatus(m.status(), "stopped_mode"));
    mode = *m;
  }
  return ActOnInstance(
      api, id, [&](AlibabaFlavor& ali) { return ali.StopInstance(id, mode, cause::kUser); });
}

// DescribeSpotAdvice's zones: one entry per zone, its resources in advice order.
json SpotAdviceZones(const std::vector<AlibabaSpotAdvice>& advice) {
  json zones = json::array();
  for (const AlibabaSpotAdvice& a : advice) {
    json resource = {{"InstanceType", a.instance_type},
                     {"InterruptionRate", a.interruption_rate},
                     {"InterruptRateDesc", a.interrupt_rate_desc},
                     {"AverageSpotDiscount", a.average_spot_discount},
                     {"AverageSpotPrice", a.average_spot_price},
                     {"Instances", a.instances},
                     {"Recycled", a.recycled}};
    json* into = nullptr;
    for (json& z : zones) {
      if (z["ZoneId"] == a.zone_id) into = &z;
    }
    if (!into) {
      zones.push_back({{"ZoneId", a.zone_id},
                       {"RegionId", a.region_id},
                       {"AvailableSpotResources", {{"AvailableSpotResource", json::array()}}}});
      into = &zones.back();
    }
    (*into)["AvailableSpotResources"]["AvailableSpotResource"].push_back(resource);
  }
  return zones;
}

// DescribeSpotAdvice, grouped by zone as the ECS API does.
HttpResponse SpotAdvice(ControlApi& api, const ControlRequest& req) {
  std::string zone, type;
  for (const auto& [key, value] : req.query) {
    if (key == "zone") {
      zone = value;
    } else if (key == "type") {
      type = value;
    } else {
      return ErrorResponse(UnknownQueryParameter(key, "expected zone, type"));
    }
  }
  return api.host().WithWorld([&](World& world, VirtualClock&) {
    if (!zone.empty() && !world.catalog().FindZone(zone)) {
      return ErrorResponse({400, std::string(kAliInvalidZone),
                            "zone: ZoneId \"" + zone + "\" does not exist", "zone"});
    }
    if (!type.empty() && !world.catalog().FindType(type)) {
      return ErrorResponse({400, std::string(kAliInvalidType),
                            "type: InstanceType \"" + type + "\" does not exist", "type"});
    }
    json zones = SpotAdviceZones(world.alibaba().DescribeSpotAdvice(zone, type));
    return JsonResponse(200, {{"AvailableSpotZones", {{"AvailableSpotZone", zones}}}});
  });
}

// The instance routes that act on one instance: stop, start, delete, recycle.
void RegisterAlibabaActionRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("POST", "/v1/alibaba/instances/{id}/stop",
                 [&api](const ControlRequest& req) { return StopInstance(api, req); });
  router.AddSync("POST", "/v1/alibaba/instances/{id}/start", [&api](const ControlRequest& req) {
    if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
    const std::string& id = req.Param("id");
    return ActOnInstance(api, id,
                         [&](AlibabaFlavor& ali) { return ali.StartInstance(id, cause::kUser); });
  });
  // DeleteInstance: ?force=true releases a running (or To Be Released) instance too.
  router.AddSync("DELETE", "/v1/alibaba/instances/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    ApiResult<std::map<std::string, bool>> q = ReadBoolQuery(req, {"force"});
    if (!q.ok()) return ErrorResponse(q.error());
    const bool force = (*q)["force"];
    return ActOnInstance(
        api, id, [&](AlibabaFlavor& ali) { return ali.DeleteInstance(id, force, cause::kUser); });
  });
  // The forced release notice: To Be Released now, released at now + 5 min (Alibaba's fixed
  // lead; the core has no other, so the body takes no fields).
  router.AddSync("POST", "/v1/alibaba/instances/{id}/recycle", [&api](const ControlRequest& req) {
    if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
    const std::string& id = req.Param("id");
    return ActOnInstance(api, id,
                         [&](AlibabaFlavor& ali) { return ali.ForceRecycle(id, cause::kService); });
  });
}

}  // namespace

void RegisterAlibabaRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("POST", "/v1/alibaba/instances",
                 [&api](const ControlRequest& req) { return RunInstances(api, req); });
  router.AddSync("GET", "/v1/alibaba/instances",
                 [&api](const ControlRequest& req) { return DescribeInstances(api, req); });
  router.AddSync("GET", "/v1/alibaba/instances/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().WithWorld(
        [&](World& world, VirtualClock&) { return DescribeOne(world, id); });
  });
  RegisterAlibabaActionRoutes(router, api);
  router.AddSync("GET", "/v1/alibaba/spot-advice",
                 [&api](const ControlRequest& req) { return SpotAdvice(api, req); });
  router.AddSync("GET", "/v1/alibaba/instances/{id}/billing", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().WithWorld([&](World& world, VirtualClock&) {
      Result<AlibabaBill> b = world.alibaba().Bill(id);
      if (!b.ok()) return ErrorResponse(ErrorFromStatus(b.status()));
      return JsonResponse(200, AlibabaBillJson(*b));
    });
  });
}

}  // namespace lastcall::mock
