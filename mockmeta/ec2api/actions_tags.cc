// Tags: CreateTags, DeleteTags, DescribeTags on instances and spot requests. Tags live in the
// EC2 state beside the market (the market knows only an instance's Name, which shows as its Name
// tag until a tag of that key is set here).
#include <algorithm>
#include <string>
#include <vector>

#include "mockmeta/ec2api/ec2_action.h"

namespace lastcall::mock::ec2 {
namespace {

std::string_view ResourceType(std::string_view id) {
  return id.rfind("sir-", 0) == 0 ? "spot-instances-request" : "instance";
}

// Every id names an AWS instance or a spot request of the market.
MaybeError CheckResources(const Market& market, const AwsFlavor& aws,
                          const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (IsInstanceId(id)) {
      const Instance* inst = market.FindInstance(id);
      if (!inst || inst->flavor != FlavorKind::kAws) {
        return Ec2Error{Ec2ErrorCode::kInvalidInstanceIdNotFound,
                        "The instance ID '" + id + "' does not exist"};
      }
    } else if (IsSpotRequestId(id)) {
      if (!aws.FindRequest(id)) {
        return Ec2Error{Ec2ErrorCode::kInvalidSpotInstanceRequestIdNotFound,
                        "The spot instance request ID '" + id + "' does not exist"};
      }
    } else {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      "The ID '" + id.substr(0, 64) +
                          "' is not valid (instances i-..., spot requests sir-...)"};
    }
  }
  return std::nullopt;
}

struct TagCall {
  std::vector<std::string> resources;
  std::vector<Tag> tags;
  bool dry_run = false;
};

MaybeError ReadTagCall(const Ec2Call& call, bool create, TagCall& out) {
  ParamReader p(call.params);
  out.resources = p.List("ResourceId");
  out.tags = p.Tags("Tag", false);
  out.dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (out.resources.empty()) {
    return Ec2Error{Ec2ErrorCode::kMissingParameter,
                    "The request must contain the parameter ResourceId"};
  }
  if (create && out.tags.empty()) {
    return Ec2Error{Ec2ErrorCode::kMissingParameter, "The request must contain the parameter Tag"};
  }
  for (const Tag& t : out.tags) {
    if (t.key.rfind("aws:", 0) == 0) {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      "Tag keys starting with 'aws:' are reserved for internal use"};
    }
  }
  return std::nullopt;
}

MaybeError CreateTags(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  TagCall tc;
  if (MaybeError e = ReadTagCall(call, true, tc)) return e;
  MaybeError result = ctx.With([&](Market& market, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    if (MaybeError e = CheckResources(market, aws, tc.resources)) return e;
    for (const std::string& id : tc.resources) {
      auto existing = state.tags.find(id);
      size_t count = existing == state.tags.end() ? 0 : existing->second.size();
      for (const Tag& t : tc.tags) {
        count += existing == state.tags.end() || !existing->second.count(t.key) ? 1 : 0;
      }
      if (count > 50) {
        return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                        "Resource '" + id + "' would have more than 50 tags"};
      }
    }
    if (tc.dry_run) return DryRunError();
    for (const std::string& id : tc.resources) {
      for (const Tag& t : tc.tags) state.tags[id][t.key] = t.value;
    }
    out.BoolLeaf("return", true);
    return std::nullopt;
  });
  if (!result) ctx.Changed();
  return result;
}

MaybeError DeleteTags(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  TagCall tc;
  if (MaybeError e = ReadTagCall(call, false, tc)) return e;
  MaybeError result = ctx.With([&](Market& market, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    if (MaybeError e = CheckResources(market, aws, tc.resources)) return e;
    if (tc.dry_run) return DryRunError();
    for (const std::string& id : tc.resources) {
      auto it = state.tags.find(id);
      if (it == state.tags.end()) continue;
      if (tc.tags.empty()) {
        state.tags.erase(it);  // no Tag: every tag of the resource goes
        continue;
      }
      for (const Tag& t : tc.tags) {
        auto kv = it->second.find(t.key);
        // A key with a value deletes only that value; a bare key deletes any value.
        if (kv != it->second.end() && (!t.has_value || kv->second == t.value)) {
          it->second.erase(kv);
        }
      }
    }
    out.BoolLeaf("return", true);
    return std::nullopt;
  });
  if (!result) ctx.Changed();
  return result;
}

struct TagItem {
  std::string resource_id;
  std::string key;
  std::string value;
};

std::vector<std::string> TagItemField(const TagItem& t, std::string_view name) {
  if (name == "key") return {t.key};
  if (name == "value") return {t.value};
  if (name == "resource-id") return {t.resource_id};
  if (name == "resource-type") return {std::string(ResourceType(t.resource_id))};
  return {};
}

MaybeError DescribeTags(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<Filter> filters = p.Filters();
  std::optional<long long> max = p.MaxResults(5, 1000);
  std::optional<std::string> token = p.String("NextToken");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (MaybeError e =
          CheckFilters(filters, {"key", "value", "resource-id", "resource-type"}, false)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market& market, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    std::vector<TagItem> items;
    auto add = [&](const std::string& id, const std::map<std::string, std::string>& tags) {
      for (const auto& [k, v] : tags) {
        TagItem t{id, k, v};
        if (Matches(filters, [&](std::string_view n) { return TagItemField(t, n); })) {
          items.push_back(std::move(t));
        }
      }
    };
    for (const auto& [id, inst] : market.instances()) {
      if (inst.flavor == FlavorKind::kAws) add(id, TagsOf(state, id, inst.name));
    }
    for (const auto& [id, r] : aws.requests()) add(id, TagsOf(state, id));
    std::sort(items.begin(), items.end(), [](const TagItem& a, const TagItem& b) {
      return std::tie(a.resource_id, a.key) < std::tie(b.resource_id, b.key);
    });
    std::vector<std::string> keys;
    keys.reserve(items.size());
    for (const TagItem& t : items) keys.push_back(t.resource_id + '\x01' + t.key);
    Page page;
    if (MaybeError e = Paginate(keys, max, token, page)) return e;
    out.Open("tagSet");
    for (size_t i = page.begin; i < page.end; ++i) {
      const TagItem& t = items[i];
      out.Open("item")
          .Leaf("resourceId", t.resource_id)
          .Leaf("resourceType", ResourceType(t.resource_id))
          .Leaf("key", t.key)
          .Leaf("value", t.value)
          .Close();
    }
    out.Close();
    out.LeafIfSet("nextToken", page.next_token);
    return std::nullopt;
  });
}

}  // namespace

void RegisterTagActions(ActionTable& table) {
  table["CreateTags"] = &CreateTags;
  table["DeleteTags"] = &DeleteTags;
  table["DescribeTags"] = &DescribeTags;
}

}  // namespace lastcall::mock::ec2
