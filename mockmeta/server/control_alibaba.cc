// Control routes of the Alibaba flavor (RunInstances, DescribeInstances, Stop/Start/Delete,
// spot advice, billing). The Alibaba flavor in mockmeta/core/alibaba.h has no public API yet, so
// nothing is registered here; docs/mockmeta-api.md lists the routes to add, each a thin
// JSON <-> AlibabaFlavor call under ControlApi::host().With(...).
#include "mockmeta/server/control_api.h"

namespace lastcall::mock {

void RegisterAlibabaRoutes(ControlRouter& /*router*/, ControlApi& /*api*/) {}

}  // namespace lastcall::mock
