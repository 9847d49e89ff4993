// Spot requests: RequestSpotInstances, DescribeSpotInstanceRequests, CancelSpotInstanceRequests.
// The requests are the AWS flavor's (aws.h); a request made here is the same request the control
// API lists, evaluated at the instant it is made.
#include <algorithm>
#include <string>
#include <vector>

#include "mockmeta/core/event_log.h"
#include "mockmeta/ec2api/ec2_action.h"

namespace lastcall::mock::ec2 {
namespace {

// Ids must look like spot request ids (Malformed) and exist (NotFound); all are checked first.
MaybeError CheckRequestIds(const AwsFlavor& aws, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (!IsSpotRequestId(id)) {
      return Ec2Error{Ec2ErrorCode::kInvalidSpotInstanceRequestIdMalformed,
                      "Invalid id: \"" + id.substr(0, 64) + "\" (expecting \"sir-...\")"};
    }
    if (!aws.FindRequest(id)) {
      return Ec2Error{Ec2ErrorCode::kInvalidSpotInstanceRequestIdNotFound,
                      "The spot instance request ID '" + id + "' does not exist"};
    }
  }
  return std::nullopt;
}

// The tags a call asks for on resources of `type`; other resource types are refused.
MaybeError TagsFor(const std::vector<TagSpecification>& specs, std::string_view type,
                   std::map<std::string, std::string>& out) {
  for (const TagSpecification& spec : specs) {
    if (spec.resource_type != type) {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      "'" + spec.resource_type.substr(0, 64) +
                          "' is not a valid taggable resource type for this operation (expected " +
                          std::string(type) + ")"};
    }
    for (const Tag& t : spec.tags) out[t.key] = t.value;
  }
  return std::nullopt;
}

MaybeError RequestSpotInstances(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  SpotRequestSpec spec;
  std::optional<std::string> type = p.String("LaunchSpecification.InstanceType", true);
  std::optional<std::string> zone = p.String("LaunchSpecification.Placement.AvailabilityZone");
  spec.max_price = p.Price("SpotPrice");
  std::optional<long long> count = p.Integer("InstanceCount", 1, 1000);
  std::optional<std::string> req_type = p.String("Type");
  spec.valid_from = p.Time("ValidFrom");
  spec.valid_until = p.Time("ValidUntil");
  std::optional<std::string> launch_group = p.String("LaunchGroup");
  std::optional<std::string> az_group = p.String("AvailabilityZoneGroup");
  std::optional<long long> block = p.Integer("BlockDurationMinutes", 0, 360);
  std::optional<std::string> behavior = p.String("InstanceInterruptionBehavior");
  std::vector<TagSpecification> tag_specs = p.TagSpecifications();
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (req_type) {
    Result<SpotRequestType> t = ParseSpotRequestType(*req_type);
    if (!t.ok())
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue, "Type: " + t.status().message()};
    spec.type = *t;
  }
  if (behavior) {
    Result<InterruptionBehavior> b = ParseInterruptionBehavior(*behavior);
    if (!b.ok()) {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      "InstanceInterruptionBehavior: " + b.status().message()};
    }
    spec.interruption_behavior = *b;
  }
  std::map<std::string, std::string> tags;
  if (MaybeError e = TagsFor(tag_specs, "spot-instances-request", tags)) return e;
  spec.instance_type = *type;
  spec.zone = zone.value_or("");
  spec.instance_count = static_cast<int>(count.value_or(1));
  spec.launch_group = launch_group.value_or("");
  spec.availability_zone_group = az_group.value_or("");
  spec.block_duration_minutes = static_cast<int>(block.value_or(0));

  MaybeError result = ctx.With([&](Market& market, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    if (Status s = aws.ValidateSpec(spec); !s.ok()) return MarketError(s);
    if (dry_run) return DryRunError();
    Result<std::vector<std::string>> ids = aws.RequestSpotInstances(spec, cause::kUser);
    if (!ids.ok()) return MarketError(ids.status());
    for (const std::string& id : *ids) {
      if (!tags.empty()) state.tags[id] = tags;
    }
    // Evaluated at this instant: requests that can launch now are fulfilled in the answer.
    if (Status s = market.AdvanceTo(market.now()); !s.ok()) return MarketError(s);
    out.Open("spotInstanceRequestSet");
    for (const std::string& id : *ids) {
      WriteSpotRequest(out, state, *aws.FindRequest(id));
    }
    out.Close();
    return std::nullopt;
  });
  if (!result) ctx.Changed();
  return result;
}

std::vector<std::string> RequestField(const SpotRequest& r, const Ec2State& state,
                                      std::string_view name) {
  const SpotRequestSpec& s = r.spec;
  auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
  if (name == "spot-instance-request-id") return one(r.id);
  if (name == "state") return one(r.state);
  if (name == "status-code") return one(r.status_code);
  if (name == "type") return one(std::string(SpotRequestTypeName(s.type)));
  if (name == "instance-id")
    return r.instance_id.empty() ? std::vector<std::string>{} : one(r.instance_id);
  if (name == "launch.instance-type") return one(s.instance_type);
  if (name == "launched-availability-zone") return one(r.launched_zone);
  if (name == "availability-zone-group") return one(s.availability_zone_group);
  if (name == "launch-group") return one(s.launch_group);
  if (name == "spot-price") return one(Ec2Price(r.max_price));
  if (name == "product-description") return one("Linux/UNIX");
  if (name == "instance-interruption-behavior") {
    return one(std::string(InterruptionBehaviorName(s.interruption_behavior)));
  }
  return TagField(name, TagsOf(state, r.id));
}

MaybeError DescribeSpotInstanceRequests(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> ids = p.List("SpotInstanceRequestId");
  std::vector<Filter> filters = p.Filters();
  std::optional<long long> max = p.MaxResults(5, 1000);
  std::optional<std::string> token = p.String("NextToken");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (MaybeError e = CheckFilters(
          filters,
          {"spot-instance-request-id", "state", "status-code", "type", "instance-id",
           "launch.instance-type", "launched-availability-zone", "availability-zone-group",
           "launch-group", "spot-price", "product-description", "instance-interruption-behavior"},
          true)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market&, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    if (MaybeError e = CheckRequestIds(aws, ids)) return e;
    std::vector<const SpotRequest*> chosen;
    std::vector<std::string> keys;
    for (const auto& [id, r] : aws.requests()) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      // A named reference: clang before 16 cannot capture a structured binding (fuzz preset).
      const SpotRequest& request = r;
      if (!Matches(filters, [&](std::string_view n) { return RequestField(request, state, n); }))
        continue;
      chosen.push_back(&r);
      keys.push_back(id);
    }
    Page page;
    if (MaybeError e = Paginate(keys, max, token, page)) return e;
    out.Open("spotInstanceRequestSet");
    for (size_t i = page.begin; i < page.end; ++i) WriteSpotRequest(out, state, *chosen[i]);
    out.Close();
    out.LeafIfSet("nextToken", page.next_token);
    return std::nullopt;
  });
}

MaybeError CancelSpotInstanceRequests(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> ids = p.List("SpotInstanceRequestId");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (ids.empty()) {
    return Ec2Error{Ec2ErrorCode::kMissingParameter,
                    "The request must contain the parameter SpotInstanceRequestId"};
  }
  MaybeError result = ctx.With([&](Market&, AwsFlavor& aws, Ec2State&) -> MaybeError {
    if (MaybeError e = CheckRequestIds(aws, ids)) return e;
    if (dry_run) return DryRunError();
    if (Status s = aws.CancelSpotInstanceRequests(ids, cause::kUser); !s.ok()) {
      return MarketError(s);
    }
    out.Open("spotInstanceRequestSet");
    for (const std::string& id : ids) {
      out.Open("item")
          .Leaf("spotInstanceRequestId", id)
          .Leaf("state", aws.FindRequest(id)->state)
          .Close();
    }
    out.Close();
    return std::nullopt;
  });
  if (!result) ctx.Changed();
  return result;
}

}  // namespace

void RegisterSpotActions(ActionTable& table) {
  table["RequestSpotInstances"] = &RequestSpotInstances;
  table["DescribeSpotInstanceRequests"] = &DescribeSpotInstanceRequests;
  table["CancelSpotInstanceRequests"] = &CancelSpotInstanceRequests;
}

}  // namespace lastcall::mock::ec2
