#include "mockmeta/server/instance_directory.h"

namespace lastcall::mock {

std::string_view ImdsFlavorName(ImdsFlavor flavor) {
  return flavor == ImdsFlavor::kAws ? "aws" : "alibaba";
}

}  // namespace lastcall::mock
