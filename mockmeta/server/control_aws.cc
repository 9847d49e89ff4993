// Control routes of the AWS flavor (spot requests, RunInstances, Terminate/Stop/Start, forced
// interruption, rebalance, scheduled events, lifecycle state, billing). The AWS flavor in
// mockmeta/core/aws.h has no public API yet, so nothing is registered here;
// docs/mockmeta-api.md lists the routes to add, each a thin JSON <-> AwsFlavor call under
// ControlApi::host().With(...).
#include "mockmeta/server/control_api.h"

namespace lastcall::mock {

void RegisterAwsRoutes(ControlRouter& /*router*/, ControlApi& /*api*/) {}

}  // namespace lastcall::mock
