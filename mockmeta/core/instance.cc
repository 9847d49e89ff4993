#include "mockmeta/core/instance.h"

namespace lastcall::mock {

std::string_view FlavorKindName(FlavorKind f) {
  return f == FlavorKind::kAlibaba ? "alibaba" : "aws";
}

std::string_view InstanceStateName(InstanceState s) {
  switch (s) {
    case InstanceState::kPending:
      return "pending";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kStarting:
      return "starting";
    case InstanceState::kStopping:
      return "stopping";
    case InstanceState::kStopped:
      return "stopped";
    case InstanceState::kShuttingDown:
      return "shutting-down";
    case InstanceState::kTerminated:
      return "terminated";
  }
  return "unknown";
}

}  // namespace lastcall::mock
