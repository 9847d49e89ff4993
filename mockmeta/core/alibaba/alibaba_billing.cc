// AlibabaFlavor: billing. Charge periods (opened at creation and start, closed at a StopCharging
// stop and at release), the raw cost of each (pay-as-you-go, unprotected 10% off, protected hour
// at the creation price), the bill rounded as Alibaba charges it, and the account total.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "mockmeta/core/alibaba/alibaba.h"
#include "mockmeta/core/alibaba/alibaba_internal.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

using alibaba_internal::kNoProtectionFactor;
using alibaba_internal::Quote;
using alibaba_internal::Seconds;

void AlibabaFlavor::OpenCharge(Record& r) {
  if (!r.charged.empty() && !r.charged.back().to) return;
  r.charged.push_back({market_.now(), std::nullopt});
}

void AlibabaFlavor::CloseCharge(Record& r) {
  if (!r.charged.empty() && !r.charged.back().to) r.charged.back().to = market_.now();
}

double AlibabaFlavor::RawCost(const Record& r) const {
  double cost = 0;
  for (const ChargePeriod& p : r.charged) {
    const WallTime to = p.to.value_or(market_.now());
    if (to <= p.from) continue;
    if (!r.spot()) {
      cost += r.on_demand * Seconds(p.from, to) / 3600.0;
      continue;
    }
    const Pool& pool = market_.catalog().pool(r.pool);
    if (r.spot_duration == 0) {
      cost += kNoProtectionFactor * pool.SpotCost(p.from, to);
      continue;
    }
    // Protected: the first hour at the price at creation, then the real-time price.
    const WallTime pe = r.protection_end();
    const WallTime split = std::clamp(pe, p.from, to);
    cost += r.creation_price * Seconds(p.from, split) / 3600.0;
    cost += pool.SpotCost(split, to);
  }
  return cost;
}

Result<AlibabaBill> AlibabaFlavor::Bill(std::string_view id) const {
  const Record* r = FindRecord(id);
  if (!r) {
    return CloudError(StatusCode::kNotFound, kAliInstanceNotFound,
                      "InstanceId " + Quote(id) + " does not exist");
  }
  AlibabaBill b;
  b.instance_id = r->id;
  b.raw_cost = RawCost(*r);
  // Seed 001/002: accurate to two decimals; less than USD 0.01 is not charged.
  b.charged =
      b.raw_cost < 0.01 ? 0.0 : static_cast<double>(std::llround(b.raw_cost * 100.0)) / 100.0;
  for (const ChargePeriod& p : r->charged) {
    const WallTime to = p.to.value_or(market_.now());
    if (to > p.from) b.billed_seconds += Seconds(p.from, to);
  }
  return b;
}

double AlibabaFlavor::AccountCharged() const {
  int64_t cents = 0;
  for (const auto& [id, r] : records_) {
    Result<AlibabaBill> b = Bill(id);
    if (b.ok()) cents += std::llround(b->charged * 100.0);
  }
  return static_cast<double>(cents) / 100.0;
}

}  // namespace lastcall::mock
