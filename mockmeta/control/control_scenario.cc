// Control route of the scenario: POST /v1/scenario loads a new market (TOML in the body, or
// JSON {"path":...} naming a file) and replaces the running one all or nothing.
#include <memory>
#include <string>
#include <utility>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// A loaded market and where it came from ("<control-api>" for an upload).
struct LoadedScenario {
  std::unique_ptr<World> market;
  std::string source;
};

// A scenario that did not load; `field` is "path" when it came from a file.
ApiError ScenarioError(const Status& status, std::string field) {
  return {400, "invalid_scenario", status.message() + " (the running scenario is unchanged)",
          std::move(field)};
}

ApiResult<LoadedScenario> LoadFromPath(const ControlRequest& req, const ScenarioOptions& options) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "", {"path"});
  std::optional<std::string> path = f.String("path", true);
  if (!f.ok()) return f.error();
  Result<std::unique_ptr<World>> loaded = LoadScenarioFile(*path, options);
  if (!loaded.ok()) return ScenarioError(loaded.status(), "path");
  return LoadedScenario{std::move(loaded).value(), *path};
}

ApiResult<LoadedScenario> LoadFromBody(const ControlRequest& req, const ScenarioOptions& options) {
  if (req.http.body.size() > kMaxScenarioBody) {
    return ApiError{413, "payload_too_large",
                    "scenario is " + std::to_string(req.http.body.size()) +
                        " bytes; the limit is " + std::to_string(kMaxScenarioBody),
                    ""};
  }
  if (req.http.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return ApiError{400, "invalid_scenario",
                    "empty body: send the scenario TOML, or JSON {\"path\":...} with "
                    "Content-Type: application/json",
                    ""};
  }
  const std::string source = "<control-api>";
  Result<std::unique_ptr<World>> loaded = LoadScenarioText(req.http.body, source, options);
  if (!loaded.ok()) return ScenarioError(loaded.status(), "");
  return LoadedScenario{std::move(loaded).value(), source};
}

HttpResponse LoadScenario(ControlApi& api, const ControlRequest& req) {
  const std::string* ctype = req.http.Header("Content-Type");
  // JSON ({"path":...}) by content type, or by its first character: a TOML document cannot
  // start with '{', and curl -d sends a form content type.
  const size_t first = req.http.body.find_first_not_of(" \t\r\n");
  const bool is_json = (ctype && ctype->find("application/json") != std::string::npos) ||
                       (first != std::string::npos && req.http.body[first] == '{');
  const ScenarioOptions& options = api.options().scenario;
  ApiResult<LoadedScenario> loaded =
      is_json ? LoadFromPath(req, options) : LoadFromBody(req, options);
  if (!loaded.ok()) return ErrorResponse(loaded.error());
  MarketHost& host = api.host();
  const uint64_t generation = host.Replace(std::move(loaded->market));
  json j = host.With([&](Market& market, VirtualClock& clock) {
    return json{{"source", loaded->source},
                {"generation", generation},
                {"start", FormatRfc3339(market.start())},
                {"now", FormatRfc3339(clock.Now())},
                {"pools", market.catalog().pools().size()},
                {"instances", market.instances().size()}};
  });
  api.Tick();
  return JsonResponse(200, j);
}

}  // namespace

void RegisterScenarioRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("POST", "/v1/scenario",
                 [&api](const ControlRequest& req) { return LoadScenario(api, req); });
}

}  // namespace lastcall::mock
