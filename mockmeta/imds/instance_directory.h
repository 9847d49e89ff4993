// InstanceDirectory: what the IMDS routers need to know about the simulated instances.
//
// This is the seam between the server and the simulation core (mockmeta/core). The routers ask
// two things: which instance a request is for (by the listener it came in on and the optional
// path prefix, see docs/mockmeta-imds.md), and what that instance's metadata looks like right
// now, as a plain view struct. The core fills the views from its state at the current virtual
// time; the routers turn them into the exact wire shapes docs/mockmeta-imds.md lists.
// A view is a snapshot: absent notices are empty optionals, not special strings.
//
// MemoryInstanceDirectory (memory_instance_directory.h) is a simple map-backed implementation
// for tests and for a server without a core.
//
// Thread-safety: implementations must allow calls from the server's io thread while the core
// advances; the views themselves are plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "mockmeta/core/instance_settings.h"

namespace lastcall::mock {

enum class ImdsFlavor { kAws, kAlibaba };
std::string_view ImdsFlavorName(ImdsFlavor flavor);  // "aws", "alibaba"

// AWS spot/instance-action.
struct AwsInstanceAction {
  std::string action;  // terminate | stop | hibernate
  WallTime time;
};

// One entry of events/maintenance/scheduled.
struct AwsScheduledEvent {
  std::string code;  // instance-reboot, system-reboot, system-maintenance, instance-retirement,
                     // instance-stop
  std::string description;
  std::string event_id;  // instance-event-0d59937288b749b32
  WallTime not_before;
  std::optional<WallTime> not_after;
  std::optional<WallTime> not_before_deadline;
  std::string state = "active";  // active | completed | canceled
};

struct AwsMetadataView {
  bool tokens_required = false;  // HttpTokens=required (IMDSv2 only)

  // Identity.
  std::string instance_id;
  std::string instance_type;
  std::string ami_id;
  std::string instance_life_cycle = "spot";  // spot | on-demand
  std::string local_hostname;
  std::string local_ipv4;
  std::string public_hostname;  // empty: no public-hostname (404)
  std::string public_ipv4;      // empty: no public-ipv4 (404)
  std::string mac;
  std::string availability_zone;
  std::string region;
  std::string account_id;
  WallTime pending_time;
  std::optional<std::string> user_data;  // none: /latest/user-data is 404
  std::string name;                      // the Name tag; empty: none
  // What the user set (profile, tags, key, groups, subnet); user_data and public_ipv4 above are
  // the served copies of its user_data and public_ip.
  InstanceSettings settings;
  WallTime now;  // the view's virtual time: credentials rotate on it

  // Notices.
  std::optional<AwsInstanceAction> instance_action;
  std::optional<WallTime> termination_time;       // legacy spot/termination-time
  std::optional<WallTime> rebalance_notice_time;  // events/recommendations/rebalance
  std::vector<AwsScheduledEvent> scheduled_events;
  std::optional<std::string> target_lifecycle_state;  // autoscaling/target-lifecycle-state
};

struct AlibabaMetadataView {
  bool tokens_required = false;  // security-hardening mode enforced

  std::string instance_id;
  std::string instance_type;
  std::string instance_name;
  std::string hostname;
  std::string region_id;
  std::string zone_id;
  std::string image_id;
  std::string mac;
  std::string private_ipv4;
  std::string vpc_id;
  std::string vswitch_id;
  std::string serial_number;
  std::string owner_account_id;
  WallTime creation_time;
  InstanceSettings settings;  // RAM role, public IP, key, user data, groups
  WallTime now;               // the view's virtual time: credentials rotate on it

  std::optional<WallTime> termination_time;  // instance/spot/termination-time
};

// The instance a request is addressed to.
struct ImdsInstance {
  std::string instance_id;
  ImdsFlavor flavor = ImdsFlavor::kAws;
  friend bool operator==(const ImdsInstance&, const ImdsInstance&) = default;
};

// The instance a request is addressed to and its metadata as of now (one of the two views is
// set, the one of its flavor).
struct ImdsSnapshot {
  ImdsInstance instance;
  std::optional<AwsMetadataView> aws;
  std::optional<AlibabaMetadataView> alibaba;
};

class InstanceDirectory {
 public:
  virtual ~InstanceDirectory() = default;

  // The instance addressed by a request on listener `listener`. `prefix` is the first path
  // segment when it is not "latest" (e.g. "i-0abc" for "/i-0abc/latest/meta-data/"), or empty
  // when the request carries no prefix (the listener's own instance, port-per-instance mode).
  virtual std::optional<ImdsInstance> Find(std::string_view listener,
                                           std::string_view prefix) const = 0;

  // The instance's metadata as of now; nullopt when it no longer exists (or has the other
  // flavor).
  virtual std::optional<AwsMetadataView> AwsView(std::string_view instance_id) const = 0;
  virtual std::optional<AlibabaMetadataView> AlibabaView(std::string_view instance_id) const = 0;

  // Find() and then the view of the instance's flavor, in one step: what the router asks for
  // every request. The default composes the calls above; a directory that can answer from one
  // look at its state (MarketDirectory: one lock, one clock advance) overrides it.
  virtual std::optional<ImdsSnapshot> Resolve(std::string_view listener,
                                              std::string_view prefix) const;
};

}  // namespace lastcall::mock
