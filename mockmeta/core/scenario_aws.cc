// [aws] scenario section: STUB owned by the AWS flavor engineer.
// Reserved names (README.md): [[aws.spot_request]] (RequestSpotInstances parameters plus optional
// `at`), [[aws.instance]] (RunInstances, spot or on-demand), [[aws.scheduled_event]],
// [[aws.action]] (timed terminate/stop/start, forced interruption, rebalance).
#include "mockmeta/core/scenario_context.h"

namespace lastcall::mock {

Status LoadAwsScenario(const toml::table& section, ScenarioContext& ctx) {
  // Nothing is supported yet: refuse every key so nothing is silently ignored.
  return ctx.CheckKeys(section, "aws", {});
}

}  // namespace lastcall::mock
