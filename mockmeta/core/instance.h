// Instance and MetadataView: the instance record both flavors share, and what IMDS serves.
//
// The Market stores every Instance (both flavors) and hands out ids, identities and capacity
// slots; a flavor keeps its own extra state (bid, spot request, protection period, ...) in its
// own tables keyed by instance id. MetadataView is a snapshot the IMDS server renders: the Market
// fills the identity part from the Instance and then asks the instance's flavor to fill the
// notice part (Flavor::FillMetadata). Times are virtual.
//
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "mockmeta/core/instance_settings.h"

namespace lastcall::mock {

enum class FlavorKind { kAlibaba, kAws };
std::string_view FlavorKindName(FlavorKind f);  // "alibaba", "aws"

// One lifecycle for both clouds; each flavor renders it in its own words
// (Alibaba: Pending/Running/Stopping/Stopped/Starting, released = kTerminated;
//  AWS: pending/running/stopping/stopped/shutting-down/terminated).
enum class InstanceState {
  kPending,
  kRunning,
  kStarting,
  kStopping,
  kStopped,
  kShuttingDown,
  kTerminated
};
std::string_view InstanceStateName(InstanceState s);  // neutral lowercase: "shutting-down"

struct Instance {
  std::string id;  // AWS "i-" + 17 hex; Alibaba "i-" + 20 lowercase alphanumerics
  FlavorKind flavor = FlavorKind::kAws;
  std::string type;
  std::string zone;
  std::string region;
  int pool = -1;            // pool index
  bool spot = false;        // false: on-demand / pay-as-you-go (holds no spot slot)
  bool holds_slot = false;  // counted in the pool's spot_running (Market-managed)
  InstanceState state = InstanceState::kPending;
  WallTime launch_time{};
  std::optional<WallTime> end_time;  // terminated / released at
  // Identity served by IMDS.
  std::string name;           // Alibaba instance-name; AWS Name tag
  std::string hostname;       // local-hostname
  std::string private_ip;     // 10.x.y.z, unique per Market
  std::string mac;            // 02:xx:..., unique per Market
  std::string image_id;       // ami-... / m-...
  std::string account_id;     // owner account
  InstanceSettings settings;  // what the user set at launch (profile, tags, keys, user data, ...)
};

// AWS instance-action / Alibaba release action.
struct InstanceAction {
  std::string action;  // "terminate" | "stop" | "hibernate"
  WallTime time{};
};

// AWS events/maintenance/scheduled entry (times rendered by FormatAwsEventTime).
struct ScheduledEvent {
  std::string code;  // instance-reboot, system-reboot, system-maintenance, instance-retirement,
                     // instance-stop
  std::string description;
  std::string event_id;  // instance-event-0d59937288b749b32
  WallTime not_before{};
  std::optional<WallTime> not_after;
  std::optional<WallTime> not_before_deadline;
  std::string state;  // active | completed | canceled
};

struct MetadataView {
  // Identity (both flavors), filled by the Market.
  FlavorKind flavor = FlavorKind::kAws;
  std::string instance_id;
  std::string instance_type;
  std::string zone;
  std::string region;
  std::string name;
  std::string hostname;
  std::string private_ip;
  std::string mac;
  std::string image_id;
  std::string account_id;
  WallTime launch_time{};  // AWS pendingTime, Alibaba CreationTime
  InstanceState state = InstanceState::kPending;
  WallTime now{};  // the virtual time of the snapshot (credentials rotate on it)
  InstanceSettings settings;

  // AWS, filled by the AWS flavor. Absent optionals are 404s.
  std::string instance_life_cycle;                    // "spot" | "on-demand"
  std::optional<InstanceAction> instance_action;      // spot/instance-action
  std::optional<WallTime> rebalance_notice_time;      // events/recommendations/rebalance
  std::vector<ScheduledEvent> scheduled_events;       // events/maintenance/scheduled
  std::optional<std::string> target_lifecycle_state;  // autoscaling/target-lifecycle-state
  std::string spot_request_id;                        // empty unless launched by a spot request

  // Both: AWS spot/termination-time (legacy) and Alibaba instance/spot/termination-time.
  std::optional<WallTime> termination_time;

  // Alibaba, filled by the Alibaba flavor.
  std::string vpc_id;
  std::string vswitch_id;
  std::string serial_number;
};

}  // namespace lastcall::mock
