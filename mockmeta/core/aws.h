// AwsFlavor: AWS Spot instances and spot requests (market-model.md, "AWS flavor").
//
// STUB owned by the AWS flavor engineer: spot requests (one-time/persistent, ValidFrom/Until,
// launch groups, blocks), their states and status codes (wire-formats.md section 5), evaluation
// on price/capacity change, interruption with the two-minute instance-action, rebalance
// recommendations, scheduled events, lifecycle state, forced interruptions, billing.
// Fill in the bodies and add members here; keep the Flavor overrides. Error codes in EC2's
// vocabulary (see cloud_error.h), e.g. "InvalidParameterValue", "InsufficientInstanceCapacity".
//
// Thread-safety: as Flavor (Market's thread only).
#pragma once

#include "mockmeta/core/flavor.h"

namespace lastcall::mock {

class Market;

class AwsFlavor final : public Flavor {
 public:
  explicit AwsFlavor(Market& market) : market_(market) {}

  std::string_view name() const override { return "aws"; }
  std::optional<WallTime> NextDue() const override;
  void RunDue(WallTime now) override;
  void OnPoolChanged(const Pool& pool, PoolChange what, WallTime now) override;
  void FillMetadata(const Instance& instance, MetadataView& view) const override;

 private:
  [[maybe_unused]] Market& market_;
};

}  // namespace lastcall::mock
