// Control routes of the instances, both flavors: list them, read one with its metadata view, a
// flavor-neutral launch, IMDSv2 / hardened mode, and expiring an instance's IMDS tokens.
#include <optional>
#include <string>

#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// "http_tokens" is "required" or "optional".
void CheckHttpTokens(JsonFields& f, const std::optional<std::string>& tokens) {
  if (f.ok() && tokens && *tokens != "required" && *tokens != "optional") {
    f.Fail("invalid_value", "http_tokens", "must be \"required\" or \"optional\"");
  }
}

// POST /v1/instances: the instance record to add, and its http_tokens if given.
struct GenericLaunch {
  Instance instance;
  std::optional<std::string> tokens;
};

ApiResult<GenericLaunch> ParseGenericLaunch(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "", {"flavor", "type", "zone", "spot", "name", "http_tokens"});
  std::optional<std::string> flavor = f.String("flavor", true);
  std::optional<std::string> type = f.String("type", true);
  std::optional<std::string> zone = f.String("zone", true);
  std::optional<bool> spot = f.Bool("spot");
  std::optional<std::string> name = f.String("name");
  std::optional<std::string> tokens = f.String("http_tokens");
  if (f.ok() && *flavor != "aws" && *flavor != "alibaba") {
    f.Fail("invalid_value", "flavor", "\"" + *flavor + "\" is not one of aws, alibaba");
  }
  CheckHttpTokens(f, tokens);
  if (!f.ok()) return f.error();
  GenericLaunch launch;
  Instance& inst = launch.instance;
  inst.flavor = *flavor == "aws" ? FlavorKind::kAws : FlavorKind::kAlibaba;
  inst.type = *type;
  inst.zone = *zone;
  inst.spot = spot.value_or(false);
  inst.name = name.value_or("");
  inst.state = InstanceState::kRunning;
  launch.tokens = tokens;
  return launch;
}

// A flavor-neutral launch: an instance record with identity, no flavor rules (no bid, no
// spot request). For tests of IMDS plumbing; the flavors' own launch calls live in
// control_alibaba.cc / control_aws.cc.
HttpResponse LaunchGeneric(ControlApi& api, const ControlRequest& req) {
  ApiResult<GenericLaunch> launch = ParseGenericLaunch(req);
  if (!launch.ok()) return ErrorResponse(launch.error());
  const Instance& inst = launch->instance;
  std::string id;
  HttpResponse out = api.host().WithWorld([&](World& world, VirtualClock&) {
    Result<Instance*> added =
        world.AddInstance(inst, inst.spot, cause::kUser, "control API generic launch");
    if (!added.ok()) return ErrorResponse(ErrorFromStatus(added.status()));
    id = (*added)->id;
    return JsonResponse(201, InstanceJson(world, **added));
  });
  if (!id.empty() && launch->tokens) api.SetTokensRequired(id, *launch->tokens == "required");
  api.Tick();
  return out;
}

bool InstanceExists(ControlApi& api, const std::string& id) {
  return api.host().With(
      [&](Market& market, VirtualClock&) { return market.FindInstance(id) != nullptr; });
}

HttpResponse SetHttpTokens(ControlApi& api, const ControlRequest& req) {
  const std::string& id = req.Param("id");
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return ErrorResponse(body.error());
  JsonFields f(*body, "", {"http_tokens"});
  std::optional<std::string> tokens = f.String("http_tokens", true);
  CheckHttpTokens(f, tokens);
  if (!f.ok()) return ErrorResponse(f.error());
  if (!InstanceExists(api, id)) return ErrorResponse(UnknownInstance(id));
  api.SetTokensRequired(id, *tokens == "required");
  return JsonResponse(200, {{"id", id}, {"http_tokens", *tokens}});
}

HttpResponse GetInstance(ControlApi& api, const ControlRequest& req) {
  const std::string& id = req.Param("id");
  const bool tokens_required = api.directory().TokensRequired(id);
  return api.host().WithWorld([&](World& world, VirtualClock&) {
    const Instance* inst = world.FindInstance(id);
    if (!inst) return ErrorResponse(UnknownInstance(id));
    json j = InstanceJson(world, *inst);
    Result<MetadataView> view = world.Metadata(id);
    j["metadata"] = view.ok() ? MetadataJson(*view) : json(nullptr);
    j["http_tokens"] = tokens_required ? "required" : "optional";
    return JsonResponse(200, j);
  });
}

}  // namespace

void RegisterInstanceRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/instances", [&api](const ControlRequest&) {
    return api.host().WithWorld([&](World& world, VirtualClock&) {
      json list = json::array();
      for (const auto& [id, inst] : world.instances()) list.push_back(InstanceJson(world, inst));
      return JsonResponse(200, {{"instances", list}});
    });
  });
  router.AddSync("GET", "/v1/instances/{id}",
                 [&api](const ControlRequest& req) { return GetInstance(api, req); });
  router.AddSync("POST", "/v1/instances",
                 [&api](const ControlRequest& req) { return LaunchGeneric(api, req); });
  router.AddSync("PATCH", "/v1/instances/{id}",
                 [&api](const ControlRequest& req) { return SetHttpTokens(api, req); });
  router.AddSync("POST", "/v1/instances/{id}/tokens/expire", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    if (!InstanceExists(api, id)) return ErrorResponse(UnknownInstance(id));
    const size_t n = api.tokens().ExpireAll(id);
    return JsonResponse(200, {{"instance", id}, {"expired", n}});
  });
}

}  // namespace lastcall::mock
