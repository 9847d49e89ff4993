// AlibabaFlavor: DescribeInstances (one instance or all, as ECS shows them) and
// DescribeSpotAdvice (per pool over the last 30 days: interruption rate and its bucket, average
// spot price and discount).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "mockmeta/core/alibaba/alibaba.h"
#include "mockmeta/core/alibaba/alibaba_internal.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

namespace {

using std::chrono::hours;

constexpr Duration kAdviceWindow = hours(24 * 30);

}  // namespace

using alibaba_internal::Quote;
using alibaba_internal::Seconds;

std::string_view InterruptRateBucket(double rate) {
  if (rate < 0.03) return "0-3%";
  if (rate < 0.05) return "3-5%";
  if (rate < 0.10) return "5-10%";
  return "10-100%";
}

AlibabaInstanceInfo AlibabaFlavor::Info(const Record& r, const Instance& inst) {
  AlibabaInstanceInfo i;
  i.instance_id = r.id;
  i.instance_name = inst.name;
  i.zone_id = inst.zone;
  i.region_id = inst.region;
  i.instance_type = inst.type;
  switch (inst.state) {
    case InstanceState::kStopped:
      i.status = "Stopped";
      break;
    case InstanceState::kTerminated:
      i.status = "Released";
      break;
    default:
      i.status = "Running";
  }
  i.strategy = r.strategy;
  i.spot_price_limit = r.limit;
  i.spot_duration = r.spot_duration;
  i.interruption_behavior = r.behavior;
  i.stopped_mode = inst.state == InstanceState::kStopped
                       ? std::string(StoppedModeName(r.stopped_mode))
                       : "Not-applicable";
  if (r.termination_time) i.operation_locks.push_back("Recycling");
  i.creation_time = r.created;
  i.protection_end = r.protection_end();
  i.creation_price = r.creation_price;
  i.termination_time = r.termination_time;
  i.released_time = inst.end_time;
  i.recycled = r.recycled;
  return i;
}

Result<AlibabaInstanceInfo> AlibabaFlavor::Describe(std::string_view id) const {
  const Record* r = FindRecord(id);
  const Instance* inst = market_.FindInstance(id);
  if (!r || !inst) {
    return CloudError(StatusCode::kNotFound, kAliInstanceNotFound,
                      "InstanceId " + Quote(id) + " does not exist");
  }
  return Info(*r, *inst);
}

std::vector<AlibabaInstanceInfo> AlibabaFlavor::DescribeAll(bool include_released) const {
  std::vector<AlibabaInstanceInfo> out;
  for (const auto& [id, r] : records_) {
    const Instance* inst = market_.FindInstance(id);
    if (!inst || (!include_released && inst->state == InstanceState::kTerminated)) continue;
    out.push_back(Info(r, *inst));
  }
  return out;
}

std::vector<AlibabaSpotAdvice> AlibabaFlavor::DescribeSpotAdvice(
    std::string_view zone, std::string_view instance_type) const {
  std::vector<AlibabaSpotAdvice> out;
  const WallTime now = market_.now();
  const WallTime window_start = now - kAdviceWindow;
  for (const Pool& pool : market_.catalog().pools()) {
    if (!zone.empty() && pool.zone != zone) continue;
    if (!instance_type.empty() && pool.type != instance_type) continue;
    AlibabaSpotAdvice a;
    a.zone_id = pool.zone;
    a.region_id = pool.region;
    a.instance_type = pool.type;
    for (const auto& [id, r] : records_) {
      if (r.pool != pool.index || !r.spot() || r.created < window_start) continue;
      ++a.instances;
      if (r.recycled) ++a.recycled;
    }
    a.interruption_rate = a.instances == 0 ? 0.0 : static_cast<double>(a.recycled) / a.instances;
    a.interrupt_rate_desc = InterruptRateBucket(a.interruption_rate);
    const WallTime from =
        std::max(window_start, pool.history.empty() ? now : pool.history.front().time);
    a.average_spot_price =
        now > from ? pool.SpotCost(from, now) / (Seconds(from, now) / 3600.0) : pool.price;
    a.average_spot_discount =
        static_cast<int>(std::lround(100.0 * a.average_spot_price / pool.on_demand_price));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace lastcall::mock
