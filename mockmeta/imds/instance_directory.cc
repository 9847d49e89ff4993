#include "mockmeta/imds/instance_directory.h"

namespace lastcall::mock {

std::string_view ImdsFlavorName(ImdsFlavor flavor) {
  return flavor == ImdsFlavor::kAws ? "aws" : "alibaba";
}

std::optional<ImdsSnapshot> InstanceDirectory::Resolve(std::string_view listener,
                                                       std::string_view prefix) const {
  std::optional<ImdsInstance> instance = Find(listener, prefix);
  if (!instance) return std::nullopt;
  ImdsSnapshot s{*instance, std::nullopt, std::nullopt};
  if (instance->flavor == ImdsFlavor::kAws) {
    s.aws = AwsView(instance->instance_id);
    if (!s.aws) return std::nullopt;  // gone between Find and now
  } else {
    s.alibaba = AlibabaView(instance->instance_id);
    if (!s.alibaba) return std::nullopt;
  }
  return s;
}

}  // namespace lastcall::mock
