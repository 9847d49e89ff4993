#include "mockmeta/imds/alibaba_metadata.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/time_format.h"
#include "mockmeta/imds/identity_signer.h"
#include "mockmeta/imds/metadata_derive.h"

namespace lastcall::mock {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

constexpr std::string_view kMd = "latest/meta-data/";

std::string Md(std::string_view rel) { return std::string(kMd) + std::string(rel); }

// The VPC around the core's 10.b.c.d private addresses: a /8 VPC, a /16 vSwitch, the gateway at
// .253 of the vSwitch's last /24 (Alibaba's gateways sit at .253).
struct AlibabaNetwork {
  std::string vpc_cidr, vswitch_cidr, netmask, gateway;
};

AlibabaNetwork NetworkOf(const AlibabaMetadataView& v) {
  Ipv4Octets ip = ParseIpv4Octets(v.private_ipv4);
  const std::string ab = std::to_string(ip.a) + "." + std::to_string(ip.b);
  return {std::to_string(ip.a) + ".0.0.0/8", ab + ".0.0/16", "255.255.0.0", ab + ".255.253"};
}

void AddInterface(MetadataTree& t, const AlibabaMetadataView& v) {
  if (v.mac.empty() || !t.WantsUnder("latest/meta-data/network")) return;
  const std::string dir = Md("network/interfaces/macs/" + v.mac);
  if (!t.WantsUnder(dir)) return;
  const AlibabaNetwork net = NetworkOf(v);
  auto leaf = [&](std::string_view name, std::string value) {
    t.Add(dir + "/" + std::string(name),
          t.Wants(dir + "/" + std::string(name)) ? std::move(value) : "");
  };
  leaf("gateway", net.gateway);
  leaf("netmask", net.netmask);
  leaf("network-interface-id", DeriveId(v.instance_id, "eni", "eni-", 20, kLowerAlnum));
  leaf("primary-ip-address", v.private_ipv4);
  leaf("private-ipv4s", Dump(Json::array({v.private_ipv4})));
  leaf("vpc-cidr-block", net.vpc_cidr);
  leaf("vpc-id", v.vpc_id);
  leaf("vpc-ipv6-cidr-blocks",
       Dump(Json::array({"2408:4000:" + DeriveId(v.vpc_id, "ipv6", "", 4) + "::/56"})));
  leaf("vswitch-cidr-block", net.vswitch_cidr);
  leaf("vswitch-id", v.vswitch_id);
}

void AddRam(MetadataTree& t, const AlibabaMetadataView& v) {
  const std::string& role = v.settings.instance_profile;
  if (role.empty() || !t.WantsUnder("latest/meta-data/ram")) return;
  t.AddComputed(Md("ram/security-credentials/" + role), [&] {
    RoleCredentials c = DeriveCredentials(v.instance_id, role, "STS.", v.creation_time, v.now);
    Json j;
    j["AccessKeyId"] = c.access_key_id;
    j["AccessKeySecret"] = c.secret_access_key;
    j["Expiration"] = FormatRfc3339(c.expiration);
    j["SecurityToken"] = c.token;
    j["LastUpdated"] = FormatRfc3339(c.last_updated);
    j["Code"] = "Success";
    return Dump(j, 2);
  });
}

std::string IdentityDocument(const AlibabaMetadataView& v) {
  Json j;
  j["zone-id"] = v.zone_id;
  j["serial-number"] = v.serial_number;
  j["instance-id"] = v.instance_id;
  j["region-id"] = v.region_id;
  j["private-ipv4"] = v.private_ipv4;
  j["owner-account-id"] = v.owner_account_id;
  j["mac"] = v.mac;
  j["image-id"] = v.image_id;
  j["instance-type"] = v.instance_type;
  return Dump(j);
}

void AddIdentity(MetadataTree& t, const AlibabaMetadataView& v) {
  constexpr std::string_view kDir = "latest/dynamic/instance-identity";
  if (!t.WantsUnder(kDir)) return;
  const std::string doc_path = std::string(kDir) + "/document";
  const std::string pkcs7_path = std::string(kDir) + "/pkcs7";
  const std::string doc =
      t.Wants(doc_path) || t.Wants(pkcs7_path) ? IdentityDocument(v) : std::string();
  t.AddComputed(doc_path, [&]() -> const std::string& { return doc; });
  t.AddComputed(pkcs7_path, [&] { return IdentityPkcs7(doc); });
}

}  // namespace

const std::vector<std::string_view>& AlibabaMetadataVersions() {
  static const std::vector<std::string_view> versions = {"2016-01-01", "latest"};
  return versions;
}

MetadataTree BuildAlibabaTree(const AlibabaMetadataView& view,
                              std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  if (t.WantsUnder("latest/meta-data/disks")) {
    const std::string serial = DeriveId(view.instance_id, "disk", "bp1", 17, kLowerAlnum);
    t.AddComputed(Md("disks/" + serial + "/id"),
                  [&] { return DeriveId(view.instance_id, "disk-id", "d-", 20, kLowerAlnum); });
    t.Add(Md("disks/" + serial + "/name"), "system-disk");
  }
  t.Add("latest/meta-data/dns-conf/nameservers", "100.100.2.136\n100.100.2.138");
  t.AddIfSet("latest/meta-data/eipv4", view.settings.public_ip);
  t.AddIfSet("latest/meta-data/hostname", view.hostname);
  t.AddIfSet("latest/meta-data/image-id", view.image_id);
  t.AddIfSet("latest/meta-data/instance-id", view.instance_id);
  t.AddIfSet("latest/meta-data/instance/instance-name", view.instance_name);
  t.AddIfSet("latest/meta-data/instance/instance-type", view.instance_type);
  if (view.termination_time) {
    t.AddComputed("latest/meta-data/instance/spot/termination-time",
                  [&] { return FormatRfc3339(*view.termination_time); });
  }
  t.AddIfSet("latest/meta-data/mac", view.mac);
  t.Add("latest/meta-data/network-type", "vpc");
  AddInterface(t, view);
  t.Add("latest/meta-data/ntp-conf/ntp-servers",
        "ntp1.cloud.aliyuncs.com\nntp2.cloud.aliyuncs.com\nntp3.cloud.aliyuncs.com");
  t.AddIfSet("latest/meta-data/owner-account-id", view.owner_account_id);
  t.AddIfSet("latest/meta-data/private-ipv4", view.private_ipv4);
  t.AddIfSet("latest/meta-data/public-ipv4", view.settings.public_ip);
  if (!view.settings.public_key.empty())
    t.AddIfSet("latest/meta-data/public-keys/0/openssh-key", view.settings.public_key);
  AddRam(t, view);
  t.AddIfSet("latest/meta-data/region-id", view.region_id);
  t.AddIfSet("latest/meta-data/serial-number", view.serial_number);
  t.Add("latest/meta-data/source-address", "http://mirrors.cloud.aliyuncs.com");
  if (t.WantsUnder("latest/meta-data/vpc-cidr-block") ||
      t.WantsUnder("latest/meta-data/vswitch-cidr-block")) {
    const AlibabaNetwork net = NetworkOf(view);
    t.Add("latest/meta-data/vpc-cidr-block", net.vpc_cidr);
    t.Add("latest/meta-data/vswitch-cidr-block", net.vswitch_cidr);
  }
  t.AddIfSet("latest/meta-data/vpc-id", view.vpc_id);
  t.AddIfSet("latest/meta-data/vswitch-id", view.vswitch_id);
  t.AddIfSet("latest/meta-data/zone-id", view.zone_id);
  AddIdentity(t, view);
  if (view.settings.user_data)
    t.AddComputed("latest/user-data", [&] { return *view.settings.user_data; });
  return t;
}

}  // namespace lastcall::mock
