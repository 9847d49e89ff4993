#include "mockmeta/imds/aws_metadata.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "common/time_format.h"
#include "mockmeta/imds/identity_signer.h"

namespace lastcall::mock {
namespace {

using Json = nlohmann::ordered_json;

// Never throws: invalid UTF-8 in a view field is replaced, not an exception in an io handler.
std::string Dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

// The two notice bodies are the paths agents poll, so they are written directly rather than
// through a JSON document (bench/RESULTS.md, "IMDS throughput"). Nothing in them needs escaping:
// the action is one of the market's words (terminate | stop | hibernate), the times are RFC 3339.
std::string AwsInstanceActionJson(const AwsInstanceAction& action) {
  return R"({"action":")" + action.action + R"(","time":")" + FormatRfc3339(action.time) + R"("})";
}

std::string AwsRebalanceJson(WallTime notice_time) {
  return R"({"noticeTime":")" + FormatRfc3339(notice_time) + R"("})";
}

std::string AwsScheduledEventsJson(const std::vector<AwsScheduledEvent>& events) {
  Json list = Json::array();
  for (const AwsScheduledEvent& e : events) {
    Json j;
    j["Code"] = e.code;
    j["Description"] = e.description;
    j["EventId"] = e.event_id;
    j["NotBefore"] = FormatAwsEventTime(e.not_before);
    if (e.not_after) j["NotAfter"] = FormatAwsEventTime(*e.not_after);
    if (e.not_before_deadline) j["NotBeforeDeadline"] = FormatAwsEventTime(*e.not_before_deadline);
    j["State"] = e.state;
    list.push_back(std::move(j));
  }
  return Dump(list);
}

std::string AwsIdentityDocumentJson(const AwsMetadataView& view) {
  Json j;
  j["accountId"] = view.account_id;
  j["architecture"] = "x86_64";
  j["availabilityZone"] = view.availability_zone;
  j["billingProducts"] = nullptr;
  j["devpayProductCodes"] = nullptr;
  j["marketplaceProductCodes"] = nullptr;
  j["imageId"] = view.ami_id;
  j["instanceId"] = view.instance_id;
  j["instanceType"] = view.instance_type;
  j["kernelId"] = nullptr;
  j["pendingTime"] = FormatRfc3339(view.pending_time);
  j["privateIp"] = view.local_ipv4;
  j["ramdiskId"] = nullptr;
  j["region"] = view.region;
  j["version"] = "2017-09-30";
  return Dump(j, 2);
}

const std::vector<std::string_view>& AwsMetadataVersions() {
  static const std::vector<std::string_view> versions = {
      "1.0",        "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
      "2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12",
      "2014-02-25", "2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02",
      "2018-03-28", "2018-08-17", "2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03",
      "2021-03-23", "2021-07-15", "2022-09-24", "latest"};
  return versions;
}

std::string AwsPublicHostname(std::string_view public_ip, std::string_view region) {
  std::string host = "ec2-" + std::string(public_ip);
  for (char& c : host) c = c == '.' ? '-' : c;
  if (region == "us-east-1") return host + ".compute-1.amazonaws.com";
  return host + "." + std::string(region) + ".compute.amazonaws.com";
}

std::string AwsAvailabilityZoneId(std::string_view zone, std::string_view region) {
  // "ap-southeast-2" -> "apse2": the first part, the initials of the middle ones, the number.
  std::string id;
  size_t start = 0;
  for (int part = 0; start <= region.size(); ++part) {
    size_t dash = region.find('-', start);
    std::string_view p = region.substr(start, dash == std::string_view::npos ? dash : dash - start);
    if (dash == std::string_view::npos) {
      id += p;
      break;
    }
    if (part == 0) {
      id += p;
    } else if (!p.empty()) {
      id += p.front();
    }
    start = dash + 1;
  }
  int n = 1;
  if (zone.size() == region.size() + 1 && zone.starts_with(region) && zone.back() >= 'a' &&
      zone.back() <= 'z') {
    n = zone.back() - 'a' + 1;
  }
  return id + "-az" + std::to_string(n);
}

std::string AwsCredentialsJson(const RoleCredentials& c) {
  Json j;
  j["Code"] = "Success";
  j["LastUpdated"] = FormatRfc3339(c.last_updated);
  j["Type"] = "AWS-HMAC";
  j["AccessKeyId"] = c.access_key_id;
  j["SecretAccessKey"] = c.secret_access_key;
  j["Token"] = c.token;
  j["Expiration"] = FormatRfc3339(c.expiration);
  return Dump(j, 2);
}

namespace {

constexpr std::string_view kMd = "latest/meta-data/";

std::string Md(std::string_view rel) { return std::string(kMd) + std::string(rel); }

std::vector<std::string> GroupNames(const AwsMetadataView& v) {
  if (v.settings.security_groups.empty()) return {"default"};
  return v.settings.security_groups;
}

std::string Lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

// The network the instance sits in: one VPC per account and region, one subnet per zone (or
// the user's), CIDRs around the core's 10.b.c.d private addresses.
struct AwsNetwork {
  std::string vpc_id, subnet_id, vpc_cidr, subnet_cidr;
};

AwsNetwork NetworkOf(const AwsMetadataView& v) {
  AwsNetwork n;
  n.vpc_id = DeriveId(v.account_id, "vpc/" + v.region, "vpc-", 17);
  n.subnet_id = v.settings.subnet_id.empty()
                    ? DeriveId(v.account_id, "subnet/" + v.availability_zone, "subnet-", 17)
                    : v.settings.subnet_id;
  Ipv4Octets ip = ParseIpv4Octets(v.local_ipv4);
  n.vpc_cidr = std::to_string(ip.a) + ".0.0.0/8";
  n.subnet_cidr = std::to_string(ip.a) + "." + std::to_string(ip.b) + ".0.0/16";
  return n;
}

void AddInterface(MetadataTree& t, const AwsMetadataView& v) {
  if (v.mac.empty() || !t.WantsUnder("latest/meta-data/network")) return;
  const std::string dir = Md("network/interfaces/macs/" + v.mac);
  if (!t.WantsUnder(dir)) return;
  const AwsNetwork net = NetworkOf(v);
  auto leaf = [&](std::string_view name, std::string value) {
    t.Add(dir + "/" + std::string(name),
          t.Wants(dir + "/" + std::string(name)) ? std::move(value) : "");
  };
  leaf("device-number", "0");
  leaf("interface-id", DeriveId(v.instance_id, "eni", "eni-", 17));
  leaf("local-hostname", v.local_hostname);
  leaf("local-ipv4s", v.local_ipv4);
  leaf("mac", v.mac);
  leaf("owner-id", v.account_id);
  if (!v.public_ipv4.empty()) {
    leaf("public-hostname", v.public_hostname);
    leaf("public-ipv4s", v.public_ipv4);
    leaf("ipv4-associations/" + v.public_ipv4, v.local_ipv4);
  }
  std::vector<std::string> group_ids;
  for (const std::string& g : GroupNames(v))
    group_ids.push_back(DeriveId(v.account_id, "sg/" + g, "sg-", 17));
  leaf("security-group-ids", Lines(group_ids));
  leaf("security-groups", Lines(GroupNames(v)));
  leaf("subnet-id", net.subnet_id);
  leaf("subnet-ipv4-cidr-block", net.subnet_cidr);
  leaf("vpc-id", net.vpc_id);
  leaf("vpc-ipv4-cidr-block", net.vpc_cidr);
  leaf("vpc-ipv4-cidr-blocks", net.vpc_cidr);
}

void AddIam(MetadataTree& t, const AwsMetadataView& v) {
  const std::string& role = v.settings.instance_profile;
  if (!role.empty() && t.WantsUnder("latest/meta-data/iam")) {
    t.AddComputed("latest/meta-data/iam/info", [&] {
      Json j;
      j["Code"] = "Success";
      j["LastUpdated"] = FormatRfc3339(
          DeriveCredentials(v.instance_id, role, "ASIA", v.pending_time, v.now).last_updated);
      j["InstanceProfileArn"] = "arn:aws:iam::" + v.account_id + ":instance-profile/" + role;
      j["InstanceProfileId"] = DeriveId(v.account_id, "profile/" + role, "AIPA", 17, kUpperAlnum);
      return Dump(j, 2);
    });
    t.AddComputed(Md("iam/security-credentials/" + role), [&] {
      return AwsCredentialsJson(
          DeriveCredentials(v.instance_id, role, "ASIA", v.pending_time, v.now));
    });
  }
  if (t.WantsUnder("latest/meta-data/identity-credentials")) {
    t.AddComputed("latest/meta-data/identity-credentials/ec2/info", [&] {
      Json j;
      j["Code"] = "Success";
      j["LastUpdated"] = FormatRfc3339(
          DeriveCredentials(v.instance_id, "ec2-instance", "ASIA", v.pending_time, v.now)
              .last_updated);
      j["AccountId"] = v.account_id;
      return Dump(j, 2);
    });
    t.AddComputed(
        "latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance", [&] {
          return AwsCredentialsJson(
              DeriveCredentials(v.instance_id, "ec2-instance", "ASIA", v.pending_time, v.now));
        });
  }
}

// The items that do not change while the instance lives.
void AddStatic(MetadataTree& t, const AwsMetadataView& v) {
  t.AddIfSet("latest/meta-data/ami-id", v.ami_id);
  t.Add("latest/meta-data/ami-launch-index", "0");
  t.Add("latest/meta-data/ami-manifest-path", "(unknown)");
  t.Add("latest/meta-data/block-device-mapping/ami", "/dev/xvda");
  t.Add("latest/meta-data/block-device-mapping/root", "/dev/xvda");
  t.AddIfSet("latest/meta-data/hostname", v.local_hostname);
  t.Add("latest/meta-data/instance-action", "none");
  t.AddIfSet("latest/meta-data/instance-id", v.instance_id);
  t.AddIfSet("latest/meta-data/instance-life-cycle", v.instance_life_cycle);
  t.AddIfSet("latest/meta-data/instance-type", v.instance_type);
  t.AddIfSet("latest/meta-data/local-hostname", v.local_hostname);
  t.AddIfSet("latest/meta-data/local-ipv4", v.local_ipv4);
  t.AddIfSet("latest/meta-data/mac", v.mac);
  t.AddIfSet("latest/meta-data/placement/availability-zone", v.availability_zone);
  if (!v.availability_zone.empty()) {
    t.AddComputed("latest/meta-data/placement/availability-zone-id",
                  [&] { return AwsAvailabilityZoneId(v.availability_zone, v.region); });
  }
  t.AddIfSet("latest/meta-data/placement/region", v.region);
  t.Add("latest/meta-data/profile", "default-hvm");
  t.AddIfSet("latest/meta-data/public-hostname", v.public_hostname);
  t.AddIfSet("latest/meta-data/public-ipv4", v.public_ipv4);
  if (!v.settings.public_key.empty()) {
    t.AddIfSet("latest/meta-data/public-keys/0/openssh-key", v.settings.public_key);
    t.ListAs("latest/meta-data/public-keys", "0", "0=" + v.settings.key_name);
  }
  t.AddComputed("latest/meta-data/reservation-id",
                [&] { return DeriveId(v.instance_id, "reservation", "r-", 17); });
  t.AddComputed("latest/meta-data/security-groups", [&] { return Lines(GroupNames(v)); });
  t.Add("latest/meta-data/services/domain", "amazonaws.com");
  t.Add("latest/meta-data/services/partition", "aws");
  if (v.settings.metadata_tags && t.WantsUnder("latest/meta-data/tags/instance")) {
    for (const auto& [key, value] : v.settings.tags) t.Add(Md("tags/instance/" + key), value);
    if (!v.name.empty() && !v.settings.tags.count("Name"))
      t.Add("latest/meta-data/tags/instance/Name", v.name);
  }
}

void AddNotices(MetadataTree& t, const AwsMetadataView& view) {
  if (view.instance_action) {
    t.AddComputed("latest/meta-data/spot/instance-action",
                  [&] { return AwsInstanceActionJson(*view.instance_action); });
  }
  if (view.termination_time) {
    t.AddComputed("latest/meta-data/spot/termination-time",
                  [&] { return FormatRfc3339(*view.termination_time); });
  }
  if (view.rebalance_notice_time) {
    t.AddComputed("latest/meta-data/events/recommendations/rebalance",
                  [&] { return AwsRebalanceJson(*view.rebalance_notice_time); });
  }
  t.AddComputed("latest/meta-data/events/maintenance/scheduled",
                [&] { return AwsScheduledEventsJson(view.scheduled_events); });
  if (view.target_lifecycle_state) {
    t.AddComputed("latest/meta-data/autoscaling/target-lifecycle-state",
                  [&] { return *view.target_lifecycle_state; });
  }
}

void AddIdentity(MetadataTree& t, const AwsMetadataView& view) {
  constexpr std::string_view kDir = "latest/dynamic/instance-identity";
  if (!t.WantsUnder(kDir)) return;
  const std::string doc_path = std::string(kDir) + "/document";
  // The signed items sign the document: build it only for the item asked for.
  bool any = t.Wants(doc_path);
  for (std::string_view item : {"signature", "pkcs7", "rsa2048"})
    any = any || t.Wants(std::string(kDir) + "/" + std::string(item));
  const std::string doc = any ? AwsIdentityDocumentJson(view) : std::string();
  t.AddComputed(doc_path, [&]() -> const std::string& { return doc; });
  t.AddComputed(std::string(kDir) + "/signature", [&] { return IdentitySignature(doc); });
  t.AddComputed(std::string(kDir) + "/pkcs7", [&] { return IdentityPkcs7(doc); });
  t.AddComputed(std::string(kDir) + "/rsa2048", [&] { return IdentityPkcs7(doc); });
}

}  // namespace

MetadataTree BuildAwsTree(const AwsMetadataView& view, std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  AddStatic(t, view);
  AddInterface(t, view);
  AddIam(t, view);
  AddNotices(t, view);
  AddIdentity(t, view);
  if (view.user_data) t.AddComputed("latest/user-data", [&] { return *view.user_data; });
  return t;
}

}  // namespace lastcall::mock
