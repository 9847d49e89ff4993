// World: one simulated cloud, a Market with the Alibaba and AWS flavors registered with it, and
// typed access to each flavor for the code that needs flavor-specific calls (the scenario
// loaders, the control API's aws/alibaba routes, the EC2 and ECS faces).
//
// A World is a Market (flavor-neutral code takes it as one); the Market owns the flavors and
// knows them only as Flavor, and the World keeps a typed reference to each, so nothing ever
// casts a Flavor back to its cloud. The flavors run in the order they are registered here:
// Alibaba, then AWS (the engine order market.h documents). A test that wants only its own flavor
// builds a plain Market and registers it.
//
// Neither copied nor moved (the flavors hold a reference to it); hold it in a std::unique_ptr.
// A scenario loads into a fresh one (scenario.h).
//
// Thread-safety: as Market (not thread-safe; the server holds one mutex around it).
#pragma once

#include "mockmeta/core/alibaba/alibaba.h"
#include "mockmeta/core/aws/aws.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

class World : public Market {
 public:
  explicit World(MarketOptions options = {});

  AlibabaFlavor& alibaba() { return alibaba_; }
  const AlibabaFlavor& alibaba() const { return alibaba_; }
  AwsFlavor& aws() { return aws_; }
  const AwsFlavor& aws() const { return aws_; }

 private:
  AlibabaFlavor& alibaba_;  // owned by the Market
  AwsFlavor& aws_;          // owned by the Market
};

}  // namespace lastcall::mock
