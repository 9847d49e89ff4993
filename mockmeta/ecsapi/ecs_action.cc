#include "mockmeta/ecsapi/ecs_action.h"

#include <cstdio>

#include "common/time_format.h"

namespace lastcall::mock::ecs {

EcsError DryRunError() {
  return {EcsErrorCode::kDryRunOperation,
          "Request validation has been passed with DryRun flag set."};
}

MaybeError CheckRegion(const Market& market, std::string_view region) {
  for (const Zone& z : market.catalog().zones()) {
    if (z.region == region) return std::nullopt;
  }
  return EcsError{EcsErrorCode::kInvalidRegionIdNotFound,
                  "The specified RegionId " + Quote(region) + " does not exist."};
}

std::string EcsTime(WallTime t) { return FormatRfc3339(t); }

std::string EcsMinuteTime(WallTime t) {
  std::string s = FormatRfc3339(t);  // 2026-04-07T00:00:00Z
  return s.size() == 20 ? s.substr(0, 16) + "Z" : s;
}

PageRequest ReadPage(EcsParamReader& reader, long long default_size, long long max_size) {
  PageRequest p;
  p.number = reader.Integer("PageNumber", 1, 1000000000).value_or(1);
  p.size = reader.Integer("PageSize", 1, max_size).value_or(default_size);
  return p;
}

json TagsJson(const EcsState& state, std::string_view id) {
  json list = json::array();
  auto it = state.tags.find(id);
  if (it != state.tags.end()) {
    for (const auto& [k, v] : it->second) list.push_back({{"TagKey", k}, {"TagValue", v}});
  }
  return {{"Tag", list}};
}

MaybeError AddTags(EcsState& state, std::string_view id, const std::vector<EcsTag>& tags) {
  auto merged = state.tags[std::string(id)];
  for (const EcsTag& t : tags) merged[t.key] = t.value;
  if (merged.size() > kMaxTagsPerResource) {
    return EcsError{EcsErrorCode::kInvalidParameter,
                    "The specified parameter \"Tag\" is not valid: a resource has at most " +
                        std::to_string(kMaxTagsPerResource) + " tags."};
  }
  state.tags[std::string(id)] = std::move(merged);
  return std::nullopt;
}

json InstanceJson(const Market& market, const EcsState& state, const AlibabaInstanceInfo& i) {
  json locks = json::array();
  for (const std::string& l : i.operation_locks) locks.push_back({{"LockReason", l}});
  const InstanceType* type = market.catalog().FindType(i.instance_type);
  Result<MetadataView> view = market.Metadata(i.instance_id);
  const MetadataView none;
  const MetadataView& m = view.ok() ? *view : none;
  json j = {{"InstanceId", i.instance_id},
            {"InstanceName", i.instance_name},
            {"HostName", m.hostname},
            {"RegionId", i.region_id},
            {"ZoneId", i.zone_id},
            {"InstanceType", i.instance_type},
            {"Cpu", type ? type->vcpu : 0},
            {"Memory", type ? static_cast<long long>(type->memory_gib * 1024) : 0},
            {"ImageId", m.image_id},
            {"OSType", "linux"},
            {"InstanceChargeType", "PostPaid"},
            {"InternetChargeType", "PayByTraffic"},
            {"InstanceNetworkType", "vpc"},
            {"IoOptimized", true},
            {"Status", i.status},
            {"SpotStrategy", SpotStrategyName(i.strategy)},
            {"SpotPriceLimit", i.spot_price_limit},
            {"SpotDuration", i.spot_duration},
            {"SpotInterruptionBehavior", SpotInterruptionBehaviorName(i.interruption_behavior)},
            {"StoppedMode", i.stopped_mode},
            {"OperationLocks", {{"LockReason", locks}}},
            {"CreationTime", EcsMinuteTime(i.creation_time)},
            {"StartTime", EcsMinuteTime(i.creation_time)},
            {"ExpiredTime", "2099-12-31T15:59Z"},
            {"SerialNumber", m.serial_number},
            {"VpcAttributes",
             {{"VpcId", m.vpc_id},
              {"VSwitchId", m.vswitch_id},
              {"NatIpAddress", ""},
              {"PrivateIpAddress", {{"IpAddress", json::array({m.private_ip})}}}}},
            {"PublicIpAddress", {{"IpAddress", json::array()}}},
            {"InnerIpAddress", {{"IpAddress", json::array()}}},
            {"Tags", TagsJson(state, i.instance_id)}};
  return j;
}

}  // namespace lastcall::mock::ecs
