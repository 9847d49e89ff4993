// The control API's JSON: the renderings every resource shares (clock, pool, price model, event,
// event page, instance, metadata view), the price model parser, and the cloud's "no such
// instance" error, and the flavors' own renderings (InstanceJson shows them as "cloud").
//
// Thread-safety: pure functions over values the caller holds (under MarketHost::With).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "mockmeta/control/control_router.h"
#include "mockmeta/core/market.h"
#include "mockmeta/core/virtual_clock.h"
#include "mockmeta/core/world.h"

namespace lastcall::mock {

// The largest price (USD per hour) a request may set.
inline constexpr double kMaxPrice = 1e6;

// An RFC 3339 time, or null.
nlohmann::json TimeOrNull(const std::optional<WallTime>& t);

// {"now","now_unix_ms","mode","speed","start","generation"}.
nlohmann::json ClockJson(const Market& market, const VirtualClock& clock, uint64_t generation);
nlohmann::json PoolJson(const Pool& pool);
nlohmann::json PriceModelJson(const PriceModel& model);
nlohmann::json EventJson(const Event& event);
// One page of the log after `cursor`; a cursor from another generation (the scenario was
// replaced: `reset`) starts over at 0 and says so.
nlohmann::json EventPage(const Market& market, uint64_t cursor, size_t limit, uint64_t generation,
                         bool reset);
nlohmann::json InstanceJson(const World& world, const Instance& instance);
nlohmann::json MetadataJson(const MetadataView& view);
// The flavors' own renderings. AlibabaInstanceJson is
// DescribeInstances' shape; the *CloudJson are the flavor-specific state InstanceJson adds as
// "cloud" (null for an instance the flavor does not know, e.g. a flavor-neutral launch).
nlohmann::json AlibabaInstanceJson(const AlibabaInstanceInfo& info);
nlohmann::json AlibabaBillJson(const AlibabaBill& bill);
nlohmann::json SpotRequestJson(const SpotRequest& request);
nlohmann::json AwsBillJson(const std::string& instance_id, const AwsBill& bill);
nlohmann::json AwsCloudJson(const AwsFlavor& aws, const Instance& instance);

// Parses a price model object ({"kind":"walk","step":"5m",...}); errors name "<where>.<key>".
ApiResult<PriceModel> ParsePriceModel(const nlohmann::json& j, const std::string& where);

// 404 InvalidInstanceID.NotFound for `id`, naming `field` when the id came from one.
ApiError UnknownInstance(const std::string& id, std::string field = {});

}  // namespace lastcall::mock
