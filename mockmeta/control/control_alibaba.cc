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
#include "mockmeta/control/control_api.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/event_log.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

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
bool ReadBoolQuery(const ControlRequest& req, const std::vector<std::string>& keys,
                   std::map<std::string, bool>& out, ApiError& err) {
  for (const auto& [key, value] : req.query) {
    bool known = false;
    for (const std::string& k : keys) known = known || k == key;
    if (!known) {
      std::string list;
      for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
      err = {400, "unknown_field", key + ": unknown query parameter (expected " + list + ")", key};
      return false;
    }
    if (value != "true" && value != "false") {
      err = {400, "invalid_value", key + ": \"" + value + "\" must be true or false", key};
      return false;
    }
    out[key] = value == "true";
  }
  return true;
}

// One instance, in a MarketHost::WithWorld callback, or a 404 with Alibaba's code.
HttpResponse DescribeOne(const AlibabaFlavor& ali, const std::string& id, int status = 200) {
  Result<AlibabaInstanceInfo> info = ali.Describe(id);
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
    return DescribeOne(world.alibaba(), id);
  });
  api.Tick();
  return out;
}

}  // namespace

json AlibabaInstanceJson(const AlibabaInstanceInfo& i) {
  json locks = json::array();
  for (const std::string& l : i.operation_locks) locks.push_back({{"LockReason", l}});
  return {{"InstanceId", i.instance_id},
          {"InstanceName", i.instance_name},
          {"RegionId", i.region_id},
          {"ZoneId", i.zone_id},
          {"InstanceType", i.instance_type},
          {"InstanceChargeType", "PostPaid"},
          {"Status", i.status},
          {"SpotStrategy", std::string(SpotStrategyName(i.strategy))},
          {"SpotPriceLimit", i.spot_price_limit},
          {"SpotDuration", i.spot_duration},
          {"SpotInterruptionBehavior",
           std::string(SpotInterruptionBehaviorName(i.interruption_behavior))},
          {"StoppedMode", i.stopped_mode},
          {"OperationLocks", {{"LockReason", locks}}},
          {"CreationTime", FormatRfc3339(i.creation_time)},
          // The simulation's extras (not in the real DescribeInstances).
          {"ProtectionEndTime", FormatRfc3339(i.protection_end)},
          {"CreationPrice", i.creation_price},
          {"TerminationTime", TimeOrNull(i.termination_time)},
          {"ReleasedTime", TimeOrNull(i.released_time)},
          {"Recycled", i.recycled}};
}

json AlibabaBillJson(const AlibabaBill& b) {
  return {{"instance", b.instance_id},
          {"flavor", "alibaba"},
          {"usd", b.raw_cost},
          {"charged", b.charged},
          {"billed_seconds", b.billed_seconds}};
}

void RegisterAlibabaRoutes(ControlRouter& router, ControlApi& api) {
  // RunInstances: `amount` instances or none.
  router.AddSync("POST", "/v1/alibaba/instances", [&api](const ControlRequest& req) {
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    JsonFields f(*body, "",
                 {"zone", "type", "spot_strategy", "spot_price_limit", "spot_duration",
                  "interruption_behavior", "name", "amount", "http_tokens"});
    std::optional<std::string> zone = f.String("zone", true);
    std::optional<std::string> type = f.String("type", true);
    std::optional<std::string> strategy = f.String("spot_strategy");
    std::optional<double> limit = f.Number("spot_price_limit", 0, 1e6);
    std::optional<int64_t> duration = f.Integer("spot_duration", 0, 1);
    std::optional<std::string> behavior = f.String("interruption_behavior");
    std::optional<std::string> name = f.String("name");
    std::optional<int64_t> amount = f.Integer("amount", 1, kAliMaxAmount);
    std::optional<std::string> tokens = f.String("http_tokens");
    AlibabaRunRequest run;
    if (f.ok() && strategy) {
      Result<SpotStrategy> s = ParseSpotStrategy(*strategy);
      if (!s.ok()) return ErrorResponse(ErrorFromStatus(s.status(), "spot_strategy"));
      run.strategy = *s;
    }
    if (f.ok() && behavior) {
      Result<SpotInterruptionBehavior> b = ParseSpotInterruptionBehavior(*behavior);
      if (!b.ok()) return ErrorResponse(ErrorFromStatus(b.status(), "interruption_behavior"));
      run.interruption_behavior = *b;
    }
    if (f.ok() && tokens && *tokens != "required" && *tokens != "optional") {
      f.Fail("invalid_value", "http_tokens", "must be \"required\" or \"optional\"");
    }
    if (!f.ok()) return ErrorResponse(f.error());
    run.zone = *zone;
    run.instance_type = *type;
    run.spot_price_limit = limit;
    if (duration) run.spot_duration = static_cast<int>(*duration);
    run.name = name.value_or("");
    run.amount = static_cast<int>(amount.value_or(1));
    std::vector<std::string> ids;
    HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
      Result<std::vector<std::string>> made = world.alibaba().RunInstances(run, cause::kUser);
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
    if (tokens) {
      for (const std::string& id : ids) api.SetTokensRequired(id, *tokens == "required");
    }
    api.Tick();
    return out;
  });

  // DescribeInstances: every Alibaba instance (released ones with include_released=true).
  router.AddSync("GET", "/v1/alibaba/instances", [&api](const ControlRequest& req) {
    ApiError err;
    std::map<std::string, bool> q;
    if (!ReadBoolQuery(req, {"include_released"}, q, err)) return ErrorResponse(err);
    return api.host().WithWorld([&](World& world, VirtualClock&) {
      json list = json::array();
      for (const AlibabaInstanceInfo& i : world.alibaba().DescribeAll(q["include_released"])) {
        list.push_back(AlibabaInstanceJson(i));
      }
      return JsonResponse(200, {{"TotalCount", list.size()}, {"Instances", {{"Instance", list}}}});
    });
  });

  router.AddSync("GET", "/v1/alibaba/instances/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().WithWorld(
        [&](World& world, VirtualClock&) { return DescribeOne(world.alibaba(), id); });
  });

  // StopInstance: {"stopped_mode":"KeepCharging"|"StopCharging"} (default KeepCharging).
  router.AddSync("POST", "/v1/alibaba/instances/{id}/stop", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    ApiError err;
    std::optional<json> body = req.JsonBody(err, true);
    if (!body) return ErrorResponse(err);
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
  });

  router.AddSync("POST", "/v1/alibaba/instances/{id}/start", [&api](const ControlRequest& req) {
    if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
    const std::string& id = req.Param("id");
    return ActOnInstance(api, id,
                         [&](AlibabaFlavor& ali) { return ali.StartInstance(id, cause::kUser); });
  });

  // DeleteInstance: ?force=true releases a running (or To Be Released) instance too.
  router.AddSync("DELETE", "/v1/alibaba/instances/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    ApiError err;
    std::map<std::string, bool> q;
    if (!ReadBoolQuery(req, {"force"}, q, err)) return ErrorResponse(err);
    return ActOnInstance(api, id, [&](AlibabaFlavor& ali) {
      return ali.DeleteInstance(id, q["force"], cause::kUser);
    });
  });

  // The forced release notice: To Be Released now, released at now + 5 min (Alibaba's fixed
  // lead; the core has no other, so the body takes no fields).
  router.AddSync("POST", "/v1/alibaba/instances/{id}/recycle", [&api](const ControlRequest& req) {
    if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
    const std::string& id = req.Param("id");
    return ActOnInstance(api, id,
                         [&](AlibabaFlavor& ali) { return ali.ForceRecycle(id, cause::kService); });
  });

  // DescribeSpotAdvice, grouped by zone as the ECS API does.
  router.AddSync("GET", "/v1/alibaba/spot-advice", [&api](const ControlRequest& req) {
    std::string zone, type;
    for (const auto& [key, value] : req.query) {
      if (key == "zone") {
        zone = value;
      } else if (key == "type") {
        type = value;
      } else {
        return ErrorResponse(
            {400, "unknown_field", key + ": unknown query parameter (expected zone, type)", key});
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
      json zones = json::array();
      for (const AlibabaSpotAdvice& a : world.alibaba().DescribeSpotAdvice(zone, type)) {
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
      return JsonResponse(200, {{"AvailableSpotZones", {{"AvailableSpotZone", zones}}}});
    });
  });

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
