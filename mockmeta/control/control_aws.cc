// Control routes of the AWS flavor: spot requests (RequestSpotInstances / Describe / Cancel),
// RunInstances (spot or on-demand), Terminate / Stop / Start, a forced interruption (like FIS),
// a rebalance recommendation, scheduled events (create / cancel / complete), the Auto Scaling
// target lifecycle state and billing. Each is a thin JSON <-> AwsFlavor call under
// ControlApi::host().With(...): the body is read strictly first (JsonFields), the flavor then
// validates and applies all or nothing, and its errors keep EC2's codes (InvalidParameterValue,
// SpotMaxPriceTooLow, InsufficientInstanceCapacity, ...), with the field they are about.
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

// EC2 parameter names in the flavor's messages -> the control API's field names.
std::string FieldForMessage(std::string_view message) {
  static const std::pair<std::string_view, std::string_view> kFields[] = {
      {"LaunchSpecification.InstanceType", "instance_type"},
      {"LaunchSpecification.Placement.AvailabilityZone", "zone"},
      {"Placement.AvailabilityZone", "zone"},
      {"InstanceType", "instance_type"},
      {"SpotPrice", "max_price"},
      {"InstanceCount", "instance_count"},
      {"ValidUntil", "valid_until"},
      {"ValidFrom", "valid_from"},
      {"BlockDurationMinutes", "block_duration_minutes"},
      {"InstanceInterruptionBehavior", "interruption_behavior"},
      {"lead time", "in"},
      {"action", "action"},
      {"target lifecycle state", "state"},
  };
  for (const auto& [param, field] : kFields) {
    if (message.rfind(param, 0) == 0) return std::string(field);
  }
  return "";
}

ApiError AwsError(const Status& s, std::string field = {}) {
  if (field.empty() && CloudErrorCode(s) == "SpotMaxPriceTooLow") field = "max_price";
  if (field.empty()) field = FieldForMessage(s.message());
  return ErrorFromStatus(s, std::move(field));
}

// An instance in the control API's shape (with its AWS state), or a 404 with EC2's code.
HttpResponse InstanceOr404(World& world, const std::string& id, int status = 200) {
  const Instance* inst = world.FindInstance(id);
  if (!inst || inst->flavor != FlavorKind::kAws) {
    return ErrorResponse({404, std::string(kInvalidInstanceIdNotFound),
                          "the instance ID '" + id + "' does not exist", ""});
  }
  return JsonResponse(status, InstanceJson(world, *inst));
}

HttpResponse RequestOr404(const AwsFlavor& aws, const std::string& id, int status = 200) {
  const SpotRequest* r = aws.FindRequest(id);
  if (!r) {
    return ErrorResponse({404, "InvalidSpotInstanceRequestID.NotFound",
                          "the spot instance request ID '" + id + "' does not exist", ""});
  }
  return JsonResponse(status, SpotRequestJson(*r));
}

using UserAction = Status (AwsFlavor::*)(std::string_view, std::string_view);

// POST /v1/aws/instances/{id}/<verb>: a user action with no body.
void AddInstanceAction(ControlRouter& router, ControlApi& api, const std::string& verb,
                       UserAction action) {
  router.AddSync("POST", "/v1/aws/instances/{id}/" + verb,
                 [&api, action](const ControlRequest& req) {
                   if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
                   const std::string& id = req.Param("id");
                   HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
                     Status s = (world.aws().*action)(id, cause::kUser);
                     if (!s.ok()) return ErrorResponse(AwsError(s));
                     return InstanceOr404(world, id);
                   });
                   api.Tick();
                   return out;
                 });
}

// RequestSpotInstances' body.
ApiResult<SpotRequestSpec> ParseSpotRequest(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "",
               {"instance_type", "zone", "max_price", "instance_count", "type", "valid_from",
                "valid_until", "launch_group", "availability_zone_group", "block_duration_minutes",
                "interruption_behavior", "name"});
  SpotRequestSpec spec;
  std::optional<std::string> type = f.String("instance_type", true);
  std::optional<std::string> zone = f.String("zone");
  std::optional<double> max_price = f.Number("max_price", 0, kMaxPrice);
  std::optional<int64_t> count = f.Integer("instance_count", 1, 1000);
  std::optional<std::string> req_type = f.String("type");
  spec.valid_from = f.Time("valid_from");
  spec.valid_until = f.Time("valid_until");
  std::optional<std::string> launch_group = f.String("launch_group");
  std::optional<std::string> az_group = f.String("availability_zone_group");
  std::optional<int64_t> block = f.Integer("block_duration_minutes", 0, 360);
  std::optional<std::string> behavior = f.String("interruption_behavior");
  std::optional<std::string> name = f.String("name");
  if (!f.ok()) return f.error();
  if (req_type) {
    Result<SpotRequestType> t = ParseSpotRequestType(*req_type);
    if (!t.ok()) return AwsError(t.status(), "type");
    spec.type = *t;
  }
  if (behavior) {
    Result<InterruptionBehavior> b = ParseInterruptionBehavior(*behavior);
    if (!b.ok()) return AwsError(b.status(), "interruption_behavior");
    spec.interruption_behavior = *b;
  }
  spec.instance_type = *type;
  spec.zone = zone.value_or("");
  spec.max_price = max_price;
  spec.instance_count = static_cast<int>(count.value_or(1));
  spec.launch_group = launch_group.value_or("");
  spec.availability_zone_group = az_group.value_or("");
  spec.block_duration_minutes = static_cast<int>(block.value_or(0));
  spec.name = name.value_or("");
  return spec;
}

HttpResponse RequestSpotInstances(ControlApi& api, const ControlRequest& req) {
  ApiResult<SpotRequestSpec> spec = ParseSpotRequest(req);
  if (!spec.ok()) return ErrorResponse(spec.error());
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Result<std::vector<std::string>> ids = world.aws().RequestSpotInstances(*spec, cause::kUser);
    if (!ids.ok()) return ErrorResponse(AwsError(ids.status()));
    // Evaluated at this instant: requests that can launch now are fulfilled in the answer.
    if (Status s = world.AdvanceTo(world.now()); !s.ok()) {
      return ErrorResponse(ErrorFromStatus(s));
    }
    json list = json::array();
    for (const std::string& id : *ids) {
      list.push_back(SpotRequestJson(*world.aws().FindRequest(id)));
    }
    return JsonResponse(201, {{"spot_requests", list}});
  });
  api.Tick();
  return out;
}

void RegisterSpotRequestRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("POST", "/v1/aws/spot-requests",
                 [&api](const ControlRequest& req) { return RequestSpotInstances(api, req); });
  router.AddSync("GET", "/v1/aws/spot-requests", [&api](const ControlRequest&) {
    return api.host().WithWorld([&](World& world, VirtualClock&) {
      json list = json::array();
      for (const auto& [id, r] : world.aws().requests()) list.push_back(SpotRequestJson(r));
      return JsonResponse(200, {{"spot_requests", list}});
    });
  });
  router.AddSync("GET", "/v1/aws/spot-requests/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().WithWorld(
        [&](World& world, VirtualClock&) { return RequestOr404(world.aws(), id); });
  });
  // CancelSpotInstanceRequests for one id; the instance (if any) keeps running.
  router.AddSync("DELETE", "/v1/aws/spot-requests/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
      Status s = world.aws().CancelSpotInstanceRequests({id}, cause::kUser);
      if (!s.ok()) return ErrorResponse(AwsError(s));
      return RequestOr404(world.aws(), id);
    });
    api.Tick();
    return out;
  });
}

// RunInstances' body.
struct AwsRun {
  RunInstanceSpec spec;
  std::optional<std::string> tokens;
};

ApiResult<AwsRun> ParseAwsRun(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "",
               {"type", "zone", "spot", "max_price", "spot_type", "interruption_behavior", "name",
                "http_tokens"});
  AwsRun r;
  std::optional<std::string> type = f.String("type", true);
  std::optional<std::string> zone = f.String("zone", true);
  std::optional<bool> spot = f.Bool("spot");
  std::optional<double> max_price = f.Number("max_price", 0, kMaxPrice);
  std::optional<std::string> spot_type = f.String("spot_type");
  std::optional<std::string> behavior = f.String("interruption_behavior");
  std::optional<std::string> name = f.String("name");
  r.tokens = f.String("http_tokens");
  if (f.ok() && r.tokens && *r.tokens != "required" && *r.tokens != "optional") {
    f.Fail("invalid_value", "http_tokens", "must be \"required\" or \"optional\"");
  }
  r.spec.spot = spot.value_or(true);
  if (f.ok() && !r.spec.spot && (max_price || spot_type || behavior)) {
    const char* key = max_price ? "max_price" : spot_type ? "spot_type" : "interruption_behavior";
    f.Fail("invalid_value", key, "only applies to a spot launch (\"spot\": true)");
  }
  if (!f.ok()) return f.error();
  if (spot_type) {
    Result<SpotRequestType> t = ParseSpotRequestType(*spot_type);
    if (!t.ok()) return AwsError(t.status(), "spot_type");
    r.spec.spot_type = *t;
  }
  if (behavior) {
    Result<InterruptionBehavior> b = ParseInterruptionBehavior(*behavior);
    if (!b.ok()) return AwsError(b.status(), "interruption_behavior");
    r.spec.interruption_behavior = *b;
  }
  r.spec.instance_type = *type;
  r.spec.zone = *zone;
  r.spec.max_price = max_price;
  r.spec.name = name.value_or("");
  return r;
}

HttpResponse RunInstances(ControlApi& api, const ControlRequest& req) {
  ApiResult<AwsRun> r = ParseAwsRun(req);
  if (!r.ok()) return ErrorResponse(r.error());
  std::string id;
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Result<std::string> made = world.aws().RunInstance(r->spec, cause::kUser);
    if (!made.ok()) return ErrorResponse(AwsError(made.status()));
    id = *made;
    return InstanceOr404(world, id, 201);
  });
  if (!id.empty() && r->tokens) api.SetTokensRequired(id, *r->tokens == "required");
  api.Tick();
  return out;
}

// A forced interruption (like AWS FIS): rebalance now, instance-action `action` after `in`.
HttpResponse Interrupt(ControlApi& api, const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody(true);
  if (!body.ok()) return ErrorResponse(body.error());
  JsonFields f(*body, "", {"action", "in"});
  std::optional<std::string> action_s = f.String("action");
  std::optional<Duration> lead = f.DurationField("in", Duration(0), std::chrono::hours(6));
  if (!f.ok()) return ErrorResponse(f.error());
  InterruptionBehavior action = InterruptionBehavior::kTerminate;
  if (action_s) {
    Result<InterruptionBehavior> b = ParseInterruptionBehavior(*action_s);
    if (!b.ok()) return ErrorResponse(AwsError(b.status(), "action"));
    action = *b;
  }
  const std::string& id = req.Param("id");
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Status s = world.aws().ForceInterruption(id, action, lead.value_or(AwsFlavor::kNoticeLead),
                                             cause::kService);
    if (!s.ok()) return ErrorResponse(AwsError(s));
    return InstanceOr404(world, id);
  });
  api.Tick();
  return out;
}

void RegisterAwsInstanceRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("POST", "/v1/aws/instances",
                 [&api](const ControlRequest& req) { return RunInstances(api, req); });
  AddInstanceAction(router, api, "terminate", &AwsFlavor::TerminateInstance);
  AddInstanceAction(router, api, "stop", &AwsFlavor::StopInstance);
  AddInstanceAction(router, api, "start", &AwsFlavor::StartInstance);
  router.AddSync("POST", "/v1/aws/instances/{id}/interrupt",
                 [&api](const ControlRequest& req) { return Interrupt(api, req); });
  router.AddSync("POST", "/v1/aws/instances/{id}/rebalance", [&api](const ControlRequest& req) {
    if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
    const std::string& id = req.Param("id");
    HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
      Status s = world.aws().ForceRebalance(id, cause::kService);
      if (!s.ok()) return ErrorResponse(AwsError(s));
      return InstanceOr404(world, id);
    });
    api.Tick();
    return out;
  });
}

ApiResult<ScheduledEventSpec> ParseScheduledEvent(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "",
               {"code", "not_before", "not_after", "not_before_deadline", "description"});
  std::optional<std::string> code = f.String("code", true);
  std::optional<WallTime> not_before = f.Time("not_before", true);
  std::optional<WallTime> not_after = f.Time("not_after");
  std::optional<WallTime> deadline = f.Time("not_before_deadline");
  std::optional<std::string> description = f.String("description");
  if (f.ok() && !IsScheduledEventCode(*code)) {
    f.Fail("invalid_value", "code",
           "\"" + *code +
               "\" is not one of instance-reboot, system-reboot, system-maintenance, "
               "instance-retirement, instance-stop");
  }
  if (f.ok() && not_after && *not_after <= *not_before) {
    f.Fail("out_of_range", "not_after", "must be after not_before");
  }
  if (f.ok() && deadline && *deadline < *not_before) {
    f.Fail("out_of_range", "not_before_deadline", "is before not_before");
  }
  if (!f.ok()) return f.error();
  ScheduledEventSpec spec;
  spec.code = *code;
  spec.not_before = *not_before;
  spec.not_after = not_after;
  spec.not_before_deadline = deadline;
  spec.description = description.value_or("");
  return spec;
}

HttpResponse CreateScheduledEvent(ControlApi& api, const ControlRequest& req) {
  ApiResult<ScheduledEventSpec> spec = ParseScheduledEvent(req);
  if (!spec.ok()) return ErrorResponse(spec.error());
  const std::string& id = req.Param("id");
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Result<std::string> ev = world.aws().CreateScheduledEvent(id, *spec, cause::kService);
    if (!ev.ok()) return ErrorResponse(AwsError(ev.status()));
    json j = {{"instance", id}, {"event_id", *ev}};
    Result<MetadataView> view = world.Metadata(id);
    if (view.ok()) j["scheduled_events"] = MetadataJson(*view)["scheduled_events"];
    return JsonResponse(201, j);
  });
  api.Tick();
  return out;
}

using EventAction = Status (AwsFlavor::*)(std::string_view, std::string_view, std::string_view);

// POST /v1/aws/instances/{id}/scheduled-events/{event}/<verb>: no body.
void AddEventAction(ControlRouter& router, ControlApi& api, const std::string& verb,
                    EventAction action) {
  router.AddSync(
      "POST", "/v1/aws/instances/{id}/scheduled-events/{event}/" + verb,
      [&api, action](const ControlRequest& req) {
        if (std::optional<ApiError> e = NoFields(req)) return ErrorResponse(*e);
        const std::string& id = req.Param("id");
        const std::string& event = req.Param("event");
        HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
          Status s = (world.aws().*action)(id, event, cause::kService);
          if (!s.ok()) return ErrorResponse(AwsError(s));
          Result<MetadataView> view = world.Metadata(id);
          json events = view.ok() ? MetadataJson(*view)["scheduled_events"] : json::array();
          return JsonResponse(
              200, {{"instance", id}, {"event_id", event}, {"scheduled_events", events}});
        });
        api.Tick();
        return out;
      });
}

// The Auto Scaling target lifecycle state.
HttpResponse SetLifecycleState(ControlApi& api, const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return ErrorResponse(body.error());
  JsonFields f(*body, "", {"state"});
  std::optional<std::string> state = f.String("state", true);
  if (f.ok() && !IsTargetLifecycleState(*state)) {
    f.Fail("invalid_value", "state",
           "\"" + *state +
               "\" is not one of InService, Terminated, Detached, Standby, Warmed:Hibernated, "
               "Warmed:Running, Warmed:Stopped, Warmed:Terminated");
  }
  if (!f.ok()) return ErrorResponse(f.error());
  const std::string& id = req.Param("id");
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Status s = world.aws().SetTargetLifecycleState(id, *state, cause::kUser);
    if (!s.ok()) return ErrorResponse(AwsError(s));
    return JsonResponse(200, {{"instance", id}, {"target_lifecycle_state", *state}});
  });
  api.Tick();
  return out;
}

}  // namespace

void RegisterAwsRoutes(ControlRouter& router, ControlApi& api) {
  RegisterSpotRequestRoutes(router, api);
  RegisterAwsInstanceRoutes(router, api);
  router.AddSync("POST", "/v1/aws/instances/{id}/scheduled-events",
                 [&api](const ControlRequest& req) { return CreateScheduledEvent(api, req); });
  AddEventAction(router, api, "cancel", &AwsFlavor::CancelScheduledEvent);
  AddEventAction(router, api, "complete", &AwsFlavor::CompleteScheduledEvent);
  router.AddSync("PUT", "/v1/aws/instances/{id}/lifecycle-state",
                 [&api](const ControlRequest& req) { return SetLifecycleState(api, req); });
  router.AddSync("GET", "/v1/aws/instances/{id}/billing", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().WithWorld([&](World& world, VirtualClock&) {
      Result<AwsBill> b = world.aws().Bill(id);
      if (!b.ok()) return ErrorResponse(AwsError(b.status()));
      return JsonResponse(200, AwsBillJson(id, *b));
    });
  });
}

}  // namespace lastcall::mock
