#include "mockmeta/server/instance_directory.h"

namespace lastcall::mock {

std::string_view FlavorName(Flavor flavor) { return flavor == Flavor::kAws ? "aws" : "alibaba"; }

}  // namespace lastcall::mock
