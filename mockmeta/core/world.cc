#include "mockmeta/core/world.h"

#include <memory>
#include <utility>

namespace lastcall::mock {

World::World(MarketOptions options)
    : Market(std::move(options)),
      alibaba_(AddFlavor(std::make_unique<AlibabaFlavor>(*this))),
      aws_(AddFlavor(std::make_unique<AwsFlavor>(*this))) {}

}  // namespace lastcall::mock
