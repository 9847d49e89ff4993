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

}  // namespace

// The two notice bodies are the paths agents poll, so they are written directly rather than
// through a JSON document (bench/RESULTS.md, "IMDS throughput"). Nothing in them needs escaping:
// the action is one of the market's words (terminate | stop | hibernate), the times are RFC 3339.
std::string AwsInstanceActionJson(const AwsInstanceAction& action) {
  return R"({"action":")" + action.action + R"(","time":")" + FormatRfc3339(action.time) +
         R"("})";
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

MetadataTree BuildAwsTree(const AwsMetadataView& view, std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  t.AddIfSet("latest/meta-data/ami-id", view.ami_id);
  t.AddIfSet("latest/meta-data/hostname", view.local_hostname);
  t.AddIfSet("latest/meta-data/instance-id", view.instance_id);
  t.AddIfSet("latest/meta-data/instance-life-cycle", view.instance_life_cycle);
  t.AddIfSet("latest/meta-data/instance-type", view.instance_type);
  t.AddIfSet("latest/meta-data/local-hostname", view.local_hostname);
  t.AddIfSet("latest/meta-data/local-ipv4", view.local_ipv4);
  t.AddIfSet("latest/meta-data/mac", view.mac);
  t.AddIfSet("latest/meta-data/placement/availability-zone", view.availability_zone);
  t.AddIfSet("latest/meta-data/placement/region", view.region);
  t.AddIfSet("latest/meta-data/public-hostname", view.public_hostname);
  t.AddIfSet("latest/meta-data/public-ipv4", view.public_ipv4);
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
  t.AddComputed("latest/dynamic/instance-identity/document",
              [&] { return AwsIdentityDocumentJson(view); });
  if (view.user_data) t.AddComputed("latest/user-data", [&] { return *view.user_data; });
  return t;
}

}  // namespace lastcall::mock
