#include "mockmeta/core/alibaba.h"

#include "mockmeta/core/market.h"

namespace lastcall::mock {

// STUB: the Alibaba flavor engineer fills these in.
std::optional<WallTime> AlibabaFlavor::NextDue() const { return std::nullopt; }

void AlibabaFlavor::RunDue(WallTime /*now*/) {}

void AlibabaFlavor::OnPoolChanged(const Pool& /*pool*/, PoolChange /*what*/, WallTime /*now*/) {}

void AlibabaFlavor::FillMetadata(const Instance& /*instance*/, MetadataView& /*view*/) const {}

}  // namespace lastcall::mock
