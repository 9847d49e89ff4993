#include "mockmeta/server/aws_metadata.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "common/time_format.h"

namespace lastcall::mock {
namespace {

using Json = nlohmann::ordered_json;

// Never throws: invalid UTF-8 in a view field is replaced, not an exception in an io handler.
std::string Dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// Adds the leaf, computing its value (make()) only if the tree wants it.
template <typename Make>
void AddComputed(MetadataTree& tree, std::string path, Make&& make) {
  std::string value = tree.Wants(path) ? std::forward<Make>(make)() : std::string();
  tree.Add(std::move(path), std::move(value));
}

void AddIfSet(MetadataTree& tree, std::string path, const std::string& value) {
  if (!value.empty()) AddComputed(tree, std::move(path), [&] { return value; });
}

}  // namespace

std::string AwsInstanceActionJson(const AwsInstanceAction& action) {
  Json j;
  j["action"] = action.action;
  j["time"] = FormatRfc3339(action.time);
  return Dump(j);
}

std::string AwsRebalanceJson(WallTime notice_time) {
  Json j;
  j["noticeTime"] = FormatRfc3339(notice_time);
  return Dump(j);
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

MetadataTree BuildAwsTree(const AwsMetadataView& view, std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  const std::string md = "latest/meta-data/";
  AddIfSet(t, md + "ami-id", view.ami_id);
  AddIfSet(t, md + "hostname", view.local_hostname);
  AddIfSet(t, md + "instance-id", view.instance_id);
  AddIfSet(t, md + "instance-life-cycle", view.instance_life_cycle);
  AddIfSet(t, md + "instance-type", view.instance_type);
  AddIfSet(t, md + "local-hostname", view.local_hostname);
  AddIfSet(t, md + "local-ipv4", view.local_ipv4);
  AddIfSet(t, md + "mac", view.mac);
  AddIfSet(t, md + "placement/availability-zone", view.availability_zone);
  AddIfSet(t, md + "placement/region", view.region);
  AddIfSet(t, md + "public-hostname", view.public_hostname);
  AddIfSet(t, md + "public-ipv4", view.public_ipv4);
  if (view.instance_action) {
    AddComputed(t, md + "spot/instance-action",
                [&] { return AwsInstanceActionJson(*view.instance_action); });
  }
  if (view.termination_time) {
    AddComputed(t, md + "spot/termination-time",
                [&] { return FormatRfc3339(*view.termination_time); });
  }
  if (view.rebalance_notice_time) {
    AddComputed(t, md + "events/recommendations/rebalance",
                [&] { return AwsRebalanceJson(*view.rebalance_notice_time); });
  }
  AddComputed(t, md + "events/maintenance/scheduled",
              [&] { return AwsScheduledEventsJson(view.scheduled_events); });
  if (view.target_lifecycle_state) {
    AddComputed(t, md + "autoscaling/target-lifecycle-state",
                [&] { return *view.target_lifecycle_state; });
  }
  AddComputed(t, "latest/dynamic/instance-identity/document",
              [&] { return AwsIdentityDocumentJson(view); });
  if (view.user_data) AddComputed(t, "latest/user-data", [&] { return *view.user_data; });
  return t;
}

}  // namespace lastcall::mock
