// Control API routes for what a user sets on an instance (InstanceSettings: instance profile,
// tags, public IP, key pair, user data, security groups, subnet), for both flavors:
//   GET /v1/instances/{id}/settings   the settings as JSON
//   PUT /v1/instances/{id}/settings   replaces them; absent keys get their defaults
// The metadata trees show them from the next request on (docs/mockmeta-imds.md).
#include <nlohmann/json.hpp>
#include <utility>

#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/event_log.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

json SettingsJson(const InstanceSettings& s) {
  json j;
  j["instance_profile"] = s.instance_profile;
  j["tags"] = s.tags;
  j["metadata_tags"] = s.metadata_tags;
  j["public_ip"] = s.public_ip;
  j["key_name"] = s.key_name;
  j["public_key"] = s.public_key;
  j["user_data"] = s.user_data ? json(*s.user_data) : json(nullptr);
  j["security_groups"] = s.security_groups;
  j["subnet"] = s.subnet_id;
  return j;
}

// A JSON object of strings (tags) or an array of strings (groups) into `out`; false on error
// (recorded in `f`).
bool ReadStrings(JsonFields& f, const char* key, const json* value,
                 std::map<std::string, std::string>* tags, std::vector<std::string>* list) {
  if (!value) return true;
  if (tags) {
    for (const auto& [k, v] : value->items()) {
      if (!v.is_string()) {
        f.Fail("invalid_value", key, "tag \"" + k.substr(0, 40) + "\": values must be strings");
        return false;
      }
      (*tags)[k] = v.get<std::string>();
    }
    return true;
  }
  for (const json& v : *value) {
    if (!v.is_string()) {
      f.Fail("invalid_value", key, "must be an array of strings");
      return false;
    }
    list->push_back(v.get<std::string>());
  }
  return true;
}

ApiResult<InstanceSettings> SettingsFromJson(const json& body) {
  JsonFields f(body, "",
               {"instance_profile", "tags", "metadata_tags", "public_ip", "key_name", "public_key",
                "user_data", "security_groups", "subnet"});
  InstanceSettings s;
  s.instance_profile = f.String("instance_profile").value_or("");
  const json* tags = f.Object("tags");
  s.metadata_tags = f.Bool("metadata_tags").value_or(false);
  s.public_ip = f.String("public_ip").value_or("");
  s.key_name = f.String("key_name").value_or("");
  s.public_key = f.String("public_key").value_or("");
  s.user_data = f.String("user_data");
  const json* groups = f.Array("security_groups");
  s.subnet_id = f.String("subnet").value_or("");
  if (f.ok() && ReadStrings(f, "tags", tags, &s.tags, nullptr) &&
      ReadStrings(f, "security_groups", groups, nullptr, &s.security_groups)) {
    if (std::optional<InstanceSettingsProblem> p = CheckInstanceSettings(s)) {
      f.Fail("invalid_value", p->field, p->message);
    }
  }
  return f.Finish(std::move(s));
}

}  // namespace

void RegisterInstanceSettingsRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/instances/{id}/settings", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().With([&](Market& market, VirtualClock&) {
      const Instance* inst = market.FindInstance(id);
      if (!inst) {
        return ErrorResponse(
            {404, "InvalidInstanceID.NotFound", "no instance \"" + id + "\"", "id"});
      }
      return JsonResponse(200, SettingsJson(inst->settings));
    });
  });

  router.AddSync("PUT", "/v1/instances/{id}/settings", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    ApiResult<json> body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.error());
    ApiResult<InstanceSettings> settings = SettingsFromJson(*body);
    if (!settings.ok()) return ErrorResponse(settings.error());
    return api.host().With([&](Market& market, VirtualClock&) {
      Status s = market.SetInstanceSettings(id, *settings, cause::kUser);
      if (!s.ok()) return ErrorResponse(ErrorFromStatus(s, "id"));
      return JsonResponse(200, SettingsJson(*settings));
    });
  });
}

}  // namespace lastcall::mock
