// [alibaba] scenario section: STUB owned by the Alibaba flavor engineer.
// Reserved names (README.md): [[alibaba.instance]] (RunInstances parameters plus optional `at`,
// `count`, `name`), [[alibaba.action]] (timed release/stop/start of an instance).
#include "mockmeta/core/scenario_context.h"

namespace lastcall::mock {

Status LoadAlibabaScenario(const toml::table& section, ScenarioContext& ctx) {
  // Nothing is supported yet: refuse every key so nothing is silently ignored.
  return ctx.CheckKeys(section, "alibaba", {});
}

}  // namespace lastcall::mock
