// The Alibaba Cloud ECS instance metadata tree (docs/mockmeta-imds.md, "Items") of one instance,
// built from its view. instance/spot/termination-time exists only while the instance is To Be
// Released; empty identity fields are 404s.
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "mockmeta/imds/instance_directory.h"
#include "mockmeta/imds/metadata_tree.h"

namespace lastcall::mock {

// The versions listed at "/" ("2016-01-01", "latest"); each serves the same tree.
const std::vector<std::string_view>& AlibabaMetadataVersions();

// Paths are relative to the instance root: "latest/meta-data/instance-id". With a `focus`, only
// that leaf's value is computed (see BuildAwsTree).
MetadataTree BuildAlibabaTree(const AlibabaMetadataView& view,
                              std::optional<std::string_view> focus = std::nullopt);

}  // namespace lastcall::mock
