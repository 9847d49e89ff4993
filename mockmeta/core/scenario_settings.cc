// Reads the InstanceSettings keys of an [[aws.instance]], [[aws.spot_request]] or
// [[alibaba.instance]] table (README.md, "Scenario files"; docs/mockmeta-imds.md).
#include "mockmeta/core/scenario_context.h"

namespace lastcall::mock {

Status ReadInstanceSettings(const toml::table& t, const std::string& path, ScenarioContext& ctx,
                            InstanceSettings* out) {
  InstanceSettings s;
  for (auto [key, field] :
       {std::pair{"instance_profile", &s.instance_profile}, std::pair{"public_ip", &s.public_ip},
        std::pair{"key_name", &s.key_name}, std::pair{"public_key", &s.public_key},
        std::pair{"subnet", &s.subnet_id}}) {
    if (!ctx.Has(t, key)) continue;
    Result<std::string> v = ctx.String(t, path, key);
    if (!v.ok()) return v.status();
    *field = std::move(*v);
  }
  if (ctx.Has(t, "user_data")) {
    Result<std::string> v = ctx.String(t, path, "user_data");
    if (!v.ok()) return v.status();
    s.user_data = std::move(*v);
  }
  if (ctx.Has(t, "metadata_tags")) {
    Result<bool> v = ctx.Bool(t, path, "metadata_tags");
    if (!v.ok()) return v.status();
    s.metadata_tags = *v;
  }
  if (const toml::node* n = t.get("tags")) {
    const toml::table* tags = n->as_table();
    if (!tags) return ctx.Error(*n, path, "tags", "must be a table of strings");
    for (const auto& [k, v] : *tags) {
      if (!v.is_string()) return ctx.Error(v, path, "tags", "tag values must be strings");
      s.tags[std::string(k.str())] = v.as_string()->get();
    }
  }
  if (const toml::node* n = t.get("security_groups")) {
    const toml::array* groups = n->as_array();
    if (!groups) return ctx.Error(*n, path, "security_groups", "must be an array of strings");
    for (const toml::node& g : *groups) {
      if (!g.is_string()) return ctx.Error(g, path, "security_groups", "must be strings");
      s.security_groups.push_back(g.as_string()->get());
    }
  }
  if (std::optional<InstanceSettingsProblem> p = CheckInstanceSettings(s)) {
    const toml::node* at = t.get(p->field);
    return at ? ctx.Error(*at, path, p->field, p->message)
              : ctx.Error(t, path, p->field, p->message);
  }
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace lastcall::mock
