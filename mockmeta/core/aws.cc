#include "mockmeta/core/aws.h"

#include "mockmeta/core/market.h"

namespace lastcall::mock {

// STUB: the Alibaba flavor engineer fills these in.
std::optional<WallTime> AwsFlavor::NextDue() const { return std::nullopt; }

void AwsFlavor::RunDue(WallTime /*now*/) {}

void AwsFlavor::OnPoolChanged(const Pool& /*pool*/, PoolChange /*what*/, WallTime /*now*/) {}

void AwsFlavor::FillMetadata(const Instance& /*instance*/, MetadataView& /*view*/) const {}

}  // namespace lastcall::mock
