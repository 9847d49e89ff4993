// What the ECS actions share: the call they answer, the ECS-only state (tags) kept beside the
// market, the action table, and the helpers every action uses (RegionId, DryRun, pagination,
// ECS's time formats, the JSON of an instance).
//
// Each action is a function (EcsContext&, const EcsCall&, json& body) -> MaybeError, in the
// file of its resource group (actions_instances.cc, actions_run.cc, actions_prices.cc,
// actions_zones.cc, actions_tags.cc). An action reads and checks all its parameters first
// (EcsParamReader), then works on the market inside one EcsContext::With (the market's lock,
// the market advanced to the virtual now), answers DryRun there once everything that can be
// checked was checked, and so applies a call whole or not at all. On success it fills the
// members of the answer; the handler (ecs_api.cc) adds RequestId.
//
// Thread-safety: EcsState is touched only inside EcsContext::With, i.e. under the MarketHost's
// mutex; everything else here is per call.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mockmeta/core/alibaba/alibaba.h"
#include "mockmeta/core/market.h"
#include "mockmeta/core/world.h"
#include "mockmeta/ecsapi/ecs_error.h"
#include "mockmeta/ecsapi/ecs_params.h"
#include "mockmeta/host/cloud_api_context.h"
#include "mockmeta/host/market_host.h"

namespace lastcall::mock::ecs {

using nlohmann::json;

// What ECS knows and the market does not.
struct EcsState {
  // Resource id -> tag key -> value.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> tags;
  // RunInstances / CreateInstance ClientToken -> the instances that call made (a retry with the
  // same token answers them again instead of launching more).
  std::map<std::string, std::vector<std::string>, std::less<>> client_tokens;
  uint64_t generation = 0;  // the MarketHost generation these belong to
};

struct EcsCall {
  const FormParams& params;
  std::string action;
};

// The face's way to the shared market (mockmeta/host/cloud_api_context.h).
using EcsContext =
    CloudApiContext<EcsState, EcsError, &FromMarketStatus, AlibabaFlavor, &World::alibaba>;

using ActionFn = MaybeError (*)(EcsContext&, const EcsCall&, json&);
using ActionTable = std::map<std::string, ActionFn, std::less<>>;

void RegisterInstanceActions(ActionTable& table);
void RegisterRunActions(ActionTable& table);
void RegisterPriceActions(ActionTable& table);
void RegisterZoneActions(ActionTable& table);
void RegisterTagActions(ActionTable& table);

// --- helpers ----------------------------------------------------------------------------------
// DryRun=true: ECS answers DryRunOperation (400) once the request would have succeeded.
EcsError DryRunError();
// InvalidRegionId.NotFound unless some zone of the market is in `region`.
MaybeError CheckRegion(const Market& market, std::string_view region);

// ECS's times: CreationTime 2026-04-07T00:00Z (minutes); elsewhere 2026-04-07T00:00:00Z.
std::string EcsMinuteTime(WallTime t);
std::string EcsTime(WallTime t);

// PageNumber (from 1) and PageSize (1..max, default `default_size`) of a describe call.
struct PageRequest {
  long long number = 1;
  long long size = 10;
};
PageRequest ReadPage(EcsParamReader& reader, long long default_size, long long max_size);

// Tags of a resource, as ECS nests them: {"Tag":[{"TagKey","TagValue"}]}.
json TagsJson(const EcsState& state, std::string_view id);
// Sets the resource's tags (at most 20 per resource, as ECS allows).
MaybeError AddTags(EcsState& state, std::string_view id, const std::vector<EcsTag>& tags);
inline constexpr size_t kMaxTagsPerResource = 20;

// One instance as DescribeInstances shows it.
json InstanceJson(const Market& market, const EcsState& state, const AlibabaInstanceInfo& info);

}  // namespace lastcall::mock::ecs
