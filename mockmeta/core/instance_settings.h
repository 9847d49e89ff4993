// InstanceSettings: what a user sets on an instance at launch and what its metadata shows back
// (instance profile, tags, public IP, key pair, user data, security groups, subnet).
//
// Header-only plain value, shared by the core (Instance, MetadataView, the flavors' launch specs)
// and the IMDS views (mockmeta/imds/instance_directory.h). Everything here is served as given;
// what the clouds derive from it (credentials, ENI ids, CIDR blocks, ...) is derived from the
// instance by the metadata builders (docs/mockmeta-imds.md, "Where each item comes from").
//
// Thread-safety: plain value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::mock {

struct InstanceSettings {
  // AWS instance profile / Alibaba RAM role name; empty: none (no iam/ or ram/ items).
  std::string instance_profile;
  // Instance tags (AWS tags/instance/<key> while metadata_tags is on).
  std::map<std::string, std::string> tags;
  bool metadata_tags = false;                // AWS InstanceMetadataTags=enabled
  std::string public_ip;                     // IPv4; empty: no public address (public-ipv4 is 404)
  std::string key_name;                      // key pair name (public-keys/0=<key_name>)
  std::string public_key;                    // OpenSSH public key; empty: no public-keys/
  std::optional<std::string> user_data;      // none: user-data is 404
  std::vector<std::string> security_groups;  // names; empty: one group, "default"
  std::string subnet_id;                     // AWS subnet; empty: derived from the zone

  friend bool operator==(const InstanceSettings&, const InstanceSettings&) = default;
};

// What is wrong with a settings value, for the scenario loader and the control API to report at
// the field: `field` is the settings key ("public_ip", "tags"), `message` says what is wrong.
struct InstanceSettingsProblem {
  std::string field;
  std::string message;
};
// The first problem, or nullopt: public_ip a dotted IPv4 address; public_key an OpenSSH key line
// and key_name a name when it is set; user_data at most 16 KiB (EC2's limit); tag keys 1..128
// characters without '/' (a tag key is a metadata path segment), values at most 256; the
// profile a role name ([A-Za-z0-9+=,.@_-], 1..64); group names and the subnet not empty.
std::optional<InstanceSettingsProblem> CheckInstanceSettings(const InstanceSettings& settings);
// The settings keys a scenario table or a control API body may carry.
inline constexpr std::string_view kInstanceSettingsKeys[] = {
    "instance_profile", "tags",      "metadata_tags",   "public_ip", "key_name",
    "public_key",       "user_data", "security_groups", "subnet"};

}  // namespace lastcall::mock
