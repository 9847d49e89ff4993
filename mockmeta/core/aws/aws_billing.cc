// AwsFlavor: billing. Per-second cost of each run (on-demand, spot at the pool's price history,
// spot blocks at their fixed price), an instance's bill with its free runs, and the account total.
#include <chrono>

#include "mockmeta/core/aws/aws.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

// --- Billing -----------------------------------------------------------------------------------

double AwsFlavor::Cost(const Instance& inst, const AwsInstance& ai, const Run& run,
                       WallTime to) const {
  const auto seconds =
      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(to - run.from).count());
  if (!inst.spot) {
    const InstanceType* t = market_.catalog().FindType(inst.type);
    return t ? t->on_demand_price * seconds / 3600.0 : 0.0;
  }
  if (ai.block) return ai.block_price * seconds / 3600.0;
  return market_.catalog().pool(inst.pool).SpotCost(run.from, to);
}

Result<AwsBill> AwsFlavor::Bill(std::string_view instance_id) const {
  Result<std::pair<const Instance*, const AwsInstance*>> f = Find(instance_id);
  if (!f.ok()) return f.status();
  auto [inst, ai] = *f;
  AwsBill bill;
  for (const Run& run : ai->runs) {
    const WallTime to = run.to.value_or(market_.now());
    const long long secs = std::chrono::duration_cast<std::chrono::seconds>(to - run.from).count();
    if (run.free || ai->provider_ended_block) {
      bill.seconds_free += secs;
      continue;
    }
    bill.seconds_billed += secs;
    bill.usd += Cost(*inst, *ai, run, to);
  }
  bill.note = ai->free_note;
  return bill;
}

double AwsFlavor::AccountBill() const {
  double total = 0;
  for (const auto& [id, ai] : instances_) {
    Result<AwsBill> b = Bill(id);
    if (b.ok()) total += b->usd;
  }
  return total;
}

}  // namespace lastcall::mock
