// The AWS EC2 instance metadata tree (docs/mockmeta-imds.md, "Items") of one instance, built from
// its view.
//
// Pure functions: AwsMetadataView in, MetadataTree or JSON text out. Leaves exist only while
// their data does (a notice path appears with its notice; an empty identity field such as
// public-ipv4 is a 404), except events/maintenance/scheduled, which answers "[]" when there are
// no events. Times: RFC 3339 for notices, "21 Jan 2019 09:00:43 GMT" for scheduled events.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mockmeta/imds/instance_directory.h"
#include "mockmeta/imds/metadata_derive.h"
#include "mockmeta/imds/metadata_tree.h"

namespace lastcall::mock {

// The metadata versions EC2 lists at "/" (oldest first; "latest" last). Every one serves the
// same tree as "latest" (docs/mockmeta-imds.md, "Versions").
const std::vector<std::string_view>& AwsMetadataVersions();

// "ec2-203-0-113-7.compute-1.amazonaws.com" (us-east-1) or
// "ec2-203-0-113-7.eu-west-1.compute.amazonaws.com".
std::string AwsPublicHostname(std::string_view public_ip, std::string_view region);
// "use1-az1" for us-east-1a: the region's short name and the zone letter's position.
std::string AwsAvailabilityZoneId(std::string_view zone, std::string_view region);

// Paths are relative to the instance root: "latest/meta-data/instance-id". With a `focus` (the
// one path a request asks for), only that leaf's value is computed (MetadataTree(focus)).
MetadataTree BuildAwsTree(const AwsMetadataView& view,
                          std::optional<std::string_view> focus = std::nullopt);

std::string AwsInstanceActionJson(const AwsInstanceAction& action);
std::string AwsRebalanceJson(WallTime notice_time);
std::string AwsScheduledEventsJson(const std::vector<AwsScheduledEvent>& events);
std::string AwsIdentityDocumentJson(const AwsMetadataView& view);
// iam/security-credentials/<role> and identity-credentials/ec2/security-credentials/ec2-instance.
std::string AwsCredentialsJson(const RoleCredentials& c);

}  // namespace lastcall::mock
