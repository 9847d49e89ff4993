// Tags: TagResources, UntagResources, ListTagResources for ResourceType=instance. Tags are
// ECS-only state (EcsState), kept beside the market and dropped when a scenario is loaded.
#include <algorithm>
#include <string>
#include <vector>

#include "mockmeta/ecsapi/ecs_action.h"

namespace lastcall::mock::ecs {
namespace {

constexpr size_t kListPage = 50;

struct TagCall {
  std::string region;
  std::vector<std::string> ids;
};

TagCall ReadTagCall(EcsParamReader& r, bool ids_required) {
  TagCall c;
  c.region = r.String("RegionId", true).value_or("");
  std::optional<std::string> type = r.String("ResourceType", true);
  if (r.ok() && *type != "instance") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"ResourceType\" is not valid: the simulation tags "
           "instances.");
  }
  c.ids = r.RepeatList("ResourceId", 50);
  if (r.ok() && ids_required && c.ids.empty()) r.String("ResourceId.1", true);
  return c;
}

MaybeError CheckInstances(const Market& market, const AlibabaFlavor& ali, const TagCall& c) {
  if (MaybeError bad = CheckRegion(market, c.region)) return bad;
  for (const std::string& id : c.ids) {
    Result<AlibabaInstanceInfo> i = ali.Describe(id);
    if (!i.ok() || i->region_id != c.region) {
      return EcsError{EcsErrorCode::kInvalidInstanceIdNotFound,
                      "The specified InstanceId " + Quote(id) + " does not exist."};
    }
  }
  return std::nullopt;
}

MaybeError TagResources(EcsContext& ctx, const EcsCall& call, json&) {
  EcsParamReader r(call.params);
  TagCall c = ReadTagCall(r, true);
  std::vector<EcsTag> tags = r.Tags("Tag", kMaxTagsPerResource);
  if (r.ok() && tags.empty()) r.String("Tag.1.Key", true);
  if (!r.ok()) return r.error();
  MaybeError e = ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState& state) -> MaybeError {
    if (MaybeError bad = CheckInstances(market, ali, c)) return bad;
    EcsState next = state;  // all resources or none
    for (const std::string& id : c.ids) {
      if (MaybeError bad = AddTags(next, id, tags)) return bad;
    }
    state = std::move(next);
    return std::nullopt;
  });
  if (!e) ctx.Changed();
  return e;
}

MaybeError UntagResources(EcsContext& ctx, const EcsCall& call, json&) {
  EcsParamReader r(call.params);
  TagCall c = ReadTagCall(r, true);
  std::vector<std::string> keys = r.RepeatList("TagKey", kMaxTagsPerResource);
  const bool all = r.Bool("All").value_or(false);
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState& state) -> MaybeError {
    if (MaybeError bad = CheckInstances(market, ali, c)) return bad;
    for (const std::string& id : c.ids) {
      auto it = state.tags.find(id);
      if (it == state.tags.end()) continue;
      if (all) it->second.clear();
      for (const std::string& k : keys) it->second.erase(k);
    }
    return std::nullopt;
  });
}

MaybeError ListTagResources(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  TagCall c = ReadTagCall(r, false);
  std::vector<EcsTag> filter = r.Tags("Tag", kMaxTagsPerResource);
  const long long start = r.Integer("NextToken", 0, 1000000000).value_or(0);
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState& state) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, c.region)) return bad;
    json all = json::array();
    for (const auto& [id, tags] : state.tags) {
      if (!c.ids.empty() && std::find(c.ids.begin(), c.ids.end(), id) == c.ids.end()) continue;
      Result<AlibabaInstanceInfo> i = ali.Describe(id);
      if (!i.ok() || i->region_id != c.region) continue;
      for (const auto& tag : tags) {
        // Named, not a structured binding: clang 14 (the fuzz preset) cannot capture those.
        const std::string& k = tag.first;
        const std::string& v = tag.second;
        const bool wanted =
            filter.empty() || std::any_of(filter.begin(), filter.end(), [&](const EcsTag& f) {
              return f.key == k && (f.value.empty() || f.value == v);
            });
        if (wanted) {
          all.push_back(
              {{"ResourceId", id}, {"ResourceType", "instance"}, {"TagKey", k}, {"TagValue", v}});
        }
      }
    }
    json page = json::array();
    for (size_t i = static_cast<size_t>(start); i < all.size() && page.size() < kListPage; ++i) {
      page.push_back(all[i]);
    }
    const size_t next = static_cast<size_t>(start) + page.size();
    body["NextToken"] = next < all.size() ? std::to_string(next) : "";
    body["TagResources"] = {{"TagResource", page}};
    return std::nullopt;
  });
}

}  // namespace

void RegisterTagActions(ActionTable& t) {
  t["TagResources"] = TagResources;
  t["UntagResources"] = UntagResources;
  t["ListTagResources"] = ListTagResources;
}

}  // namespace lastcall::mock::ecs
