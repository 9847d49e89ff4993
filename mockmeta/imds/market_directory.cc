#include "mockmeta/imds/market_directory.h"

#include <utility>

#include "mockmeta/imds/aws_metadata.h"

namespace lastcall::mock {

AwsMetadataView ToAwsView(MetadataView v, bool tokens_required) {
  AwsMetadataView a;
  a.tokens_required = tokens_required;
  a.instance_id = std::move(v.instance_id);
  a.instance_type = std::move(v.instance_type);
  a.ami_id = std::move(v.image_id);
  a.instance_life_cycle =
      v.instance_life_cycle.empty() ? "on-demand" : std::move(v.instance_life_cycle);
  a.local_hostname = std::move(v.hostname);
  a.local_ipv4 = std::move(v.private_ip);
  a.mac = std::move(v.mac);
  a.availability_zone = std::move(v.zone);
  a.region = std::move(v.region);
  a.account_id = std::move(v.account_id);
  a.pending_time = v.launch_time;
  a.name = std::move(v.name);
  a.now = v.now;
  a.user_data = v.settings.user_data;
  a.public_ipv4 = v.settings.public_ip;
  if (!a.public_ipv4.empty()) a.public_hostname = AwsPublicHostname(a.public_ipv4, a.region);
  a.settings = std::move(v.settings);
  if (v.instance_action)
    a.instance_action = AwsInstanceAction{v.instance_action->action, v.instance_action->time};
  a.termination_time = v.termination_time;
  a.rebalance_notice_time = v.rebalance_notice_time;
  for (ScheduledEvent& e : v.scheduled_events) {
    AwsScheduledEvent s;
    s.code = std::move(e.code);
    s.description = std::move(e.description);
    s.event_id = std::move(e.event_id);
    s.not_before = e.not_before;
    s.not_after = e.not_after;
    s.not_before_deadline = e.not_before_deadline;
    s.state = std::move(e.state);
    a.scheduled_events.push_back(std::move(s));
  }
  a.target_lifecycle_state = std::move(v.target_lifecycle_state);
  return a;
}

AlibabaMetadataView ToAlibabaView(MetadataView v, bool tokens_required) {
  AlibabaMetadataView a;
  a.tokens_required = tokens_required;
  a.instance_id = std::move(v.instance_id);
  a.instance_type = std::move(v.instance_type);
  a.instance_name = std::move(v.name);
  a.hostname = std::move(v.hostname);
  a.region_id = std::move(v.region);
  a.zone_id = std::move(v.zone);
  a.image_id = std::move(v.image_id);
  a.mac = std::move(v.mac);
  a.private_ipv4 = std::move(v.private_ip);
  a.vpc_id = std::move(v.vpc_id);
  a.vswitch_id = std::move(v.vswitch_id);
  a.serial_number = std::move(v.serial_number);
  a.owner_account_id = std::move(v.account_id);
  a.creation_time = v.launch_time;
  a.now = v.now;
  a.settings = std::move(v.settings);
  a.termination_time = v.termination_time;
  return a;
}

void MarketDirectory::BindListener(const std::string& listener, const std::string& instance_id) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_instance_[listener] = instance_id;
}

void MarketDirectory::SetTokensRequired(const std::string& instance_id, bool required) {
  std::lock_guard<std::mutex> lock(mu_);
  if (required) {
    tokens_required_.insert(instance_id);
  } else {
    tokens_required_.erase(instance_id);
  }
}

bool MarketDirectory::TokensRequired(std::string_view instance_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_required_.count(instance_id) != 0;
}

std::optional<std::string> MarketDirectory::InstanceIdLocked(std::string_view listener,
                                                             std::string_view prefix) const {
  // A bound listener serves its own instance only, as a real instance cannot read its
  // neighbour's metadata; a prefix on it may only name that instance.
  auto it = listener_instance_.find(listener);
  if (it != listener_instance_.end()) {
    if (!prefix.empty() && prefix != it->second) return std::nullopt;
    return it->second;
  }
  if (prefix.empty()) return std::nullopt;
  return std::string(prefix);
}

std::optional<ImdsInstance> MarketDirectory::Find(std::string_view listener,
                                                  std::string_view prefix) const {
  std::optional<std::string> found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    found = InstanceIdLocked(listener, prefix);
  }
  if (!found) return std::nullopt;
  const std::string& id = *found;
  return host_.With([&](Market& market, VirtualClock&) -> std::optional<ImdsInstance> {
    const Instance* inst = market.FindInstance(id);
    if (inst == nullptr || inst->state == InstanceState::kTerminated) return std::nullopt;
    return ImdsInstance{id,
                        inst->flavor == FlavorKind::kAws ? ImdsFlavor::kAws : ImdsFlavor::kAlibaba};
  });
}

std::optional<MetadataView> MarketDirectory::View(std::string_view instance_id) const {
  return host_.With([&](Market& market, VirtualClock&) -> std::optional<MetadataView> {
    const Instance* inst = market.FindInstance(instance_id);
    if (inst == nullptr || inst->state == InstanceState::kTerminated) return std::nullopt;
    Result<MetadataView> view = market.Metadata(instance_id);
    if (!view.ok()) return std::nullopt;
    return std::move(view).value();
  });
}

std::optional<AwsMetadataView> MarketDirectory::AwsView(std::string_view instance_id) const {
  std::optional<MetadataView> v = View(instance_id);
  if (!v || v->flavor != FlavorKind::kAws) return std::nullopt;
  return ToAwsView(std::move(*v), TokensRequired(instance_id));
}

std::optional<AlibabaMetadataView> MarketDirectory::AlibabaView(
    std::string_view instance_id) const {
  std::optional<MetadataView> v = View(instance_id);
  if (!v || v->flavor != FlavorKind::kAlibaba) return std::nullopt;
  return ToAlibabaView(std::move(*v), TokensRequired(instance_id));
}

std::optional<ImdsSnapshot> MarketDirectory::Resolve(std::string_view listener,
                                                     std::string_view prefix) const {
  std::optional<std::string> found;
  bool required = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    found = InstanceIdLocked(listener, prefix);
    if (!found) return std::nullopt;
    required = tokens_required_.count(*found) != 0;
  }
  const std::string& id = *found;
  std::optional<MetadataView> view = View(id);
  if (!view) return std::nullopt;
  if (view->flavor == FlavorKind::kAws) {
    return ImdsSnapshot{{id, ImdsFlavor::kAws}, ToAwsView(std::move(*view), required), {}};
  }
  return ImdsSnapshot{{id, ImdsFlavor::kAlibaba}, {}, ToAlibabaView(std::move(*view), required)};
}

}  // namespace lastcall::mock
