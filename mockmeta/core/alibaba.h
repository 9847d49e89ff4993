// AlibabaFlavor: Alibaba Cloud preemptible instances (market-model.md, "Alibaba flavor").
//
// STUB owned by the Alibaba flavor engineer: creation with SpotStrategy / SpotPriceLimit /
// SpotDuration, the protection hour, the 5-minute recycling check, To Be Released with
// termination-time, release or stop, stock-shortage victim order, billing, stop/start and
// DescribeSpotAdvice. Fill in the bodies and add members here; keep the Flavor overrides.
// Error codes in Alibaba's vocabulary (see cloud_error.h), e.g.
// "InvalidSpotPriceLimit.LowerThanPublicPrice", "OperationDenied.NoStock".
//
// Thread-safety: as Flavor (Market's thread only).
#pragma once

#include "mockmeta/core/flavor.h"

namespace lastcall::mock {

class Market;

class AlibabaFlavor final : public Flavor {
 public:
  explicit AlibabaFlavor(Market& market) : market_(market) {}

  std::string_view name() const override { return "alibaba"; }
  std::optional<WallTime> NextDue() const override;
  void RunDue(WallTime now) override;
  void OnPoolChanged(const Pool& pool, PoolChange what, WallTime now) override;
  void FillMetadata(const Instance& instance, MetadataView& view) const override;

 private:
  [[maybe_unused]] Market& market_;
};

}  // namespace lastcall::mock
