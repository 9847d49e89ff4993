#include "mockmeta/ec2api/ec2_action.h"

#include <cstdio>

#include "common/time_format.h"
#include "mockmeta/ec2api/sigv4.h"

namespace lastcall::mock::ec2 {

bool DryRun(ParamReader& reader) { return reader.Bool("DryRun").value_or(false) && reader.ok(); }

Ec2Error DryRunError() {
  return {Ec2ErrorCode::kDryRunOperation, "Request would have succeeded, but DryRun flag is set."};
}

Ec2Error MarketError(const Status& s) { return FromMarketStatus(s); }

std::string Ec2Time(WallTime t) {
  std::string s = FormatRfc3339(t);  // ...:SSZ
  if (!s.empty() && s.back() == 'Z') s.insert(s.size() - 1, ".000");
  return s;
}

std::string Ec2Price(double usd) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", usd);
  return buf;
}

std::string_view Ec2StateName(InstanceState s) {
  switch (s) {
    case InstanceState::kPending:
    case InstanceState::kStarting:
      return "pending";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kShuttingDown:
      return "shutting-down";
    case InstanceState::kTerminated:
      return "terminated";
    case InstanceState::kStopping:
      return "stopping";
    case InstanceState::kStopped:
      return "stopped";
  }
  return "pending";
}

int Ec2StateCode(InstanceState s) {
  switch (s) {
    case InstanceState::kPending:
    case InstanceState::kStarting:
      return 0;
    case InstanceState::kRunning:
      return 16;
    case InstanceState::kShuttingDown:
      return 32;
    case InstanceState::kTerminated:
      return 48;
    case InstanceState::kStopping:
      return 64;
    case InstanceState::kStopped:
      return 80;
  }
  return 0;
}

MaybeError CheckFilters(const std::vector<Filter>& filters,
                        std::initializer_list<std::string_view> names, bool tags) {
  for (const Filter& f : filters) {
    bool known = false;
    for (std::string_view n : names) known = known || f.name == n;
    if (tags) {
      known = known || f.name == "tag-key" || f.name == "tag-value" ||
              (f.name.rfind("tag:", 0) == 0 && f.name.size() > 4);
    }
    if (!known) {
      return Ec2Error{Ec2ErrorCode::kInvalidParameterValue,
                      "The filter '" + XmlEscape(f.name.substr(0, 64)) + "' is invalid"};
    }
  }
  return std::nullopt;
}

bool GlobMatch(std::string_view p, std::string_view t) {
  // Iterative matcher with one backtrack point for '*'.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool Matches(const std::vector<Filter>& filters, const FieldLookup& lookup) {
  for (const Filter& f : filters) {
    const std::vector<std::string> have = lookup(f.name);
    bool any = false;
    for (const std::string& want : f.values) {
      for (const std::string& v : have) any = any || GlobMatch(want, v);
    }
    if (!any) return false;
  }
  return true;
}

std::vector<std::string> TagField(std::string_view name,
                                  const std::map<std::string, std::string>& tags) {
  std::vector<std::string> out;
  if (name == "tag-key" || name == "tag-value") {
    for (const auto& [k, v] : tags) out.push_back(name == "tag-key" ? k : v);
  } else if (name.rfind("tag:", 0) == 0) {
    auto it = tags.find(std::string(name.substr(4)));
    if (it != tags.end()) out.push_back(it->second);
  }
  return out;
}

MaybeError Paginate(const std::vector<std::string>& keys, std::optional<long long> max_results,
                    const std::optional<std::string>& next_token, Page& page) {
  page = Page{0, keys.size(), ""};
  if (next_token) {
    // The token is the hex of the next page's first key.
    std::string key;
    bool ok = next_token->size() % 2 == 0 && !next_token->empty();
    for (size_t i = 0; ok && i < next_token->size(); i += 2) {
      const std::string byte = next_token->substr(i, 2);
      ok = byte.find_first_not_of("0123456789abcdef") == std::string::npos;
      if (ok) key += static_cast<char>(std::stoi(byte, nullptr, 16));
    }
    if (!ok) {
      return Ec2Error{Ec2ErrorCode::kInvalidPaginationToken,
                      "The pagination token is not valid: " + next_token->substr(0, 80)};
    }
    page.begin = std::lower_bound(keys.begin(), keys.end(), key) - keys.begin();
  }
  if (max_results && keys.size() - page.begin > static_cast<size_t>(*max_results)) {
    page.end = page.begin + static_cast<size_t>(*max_results);
    page.next_token = HexEncode(keys[page.end]);
  }
  return std::nullopt;
}

std::map<std::string, std::string> TagsOf(const Ec2State& state, std::string_view id,
                                          std::string_view market_name) {
  std::map<std::string, std::string> out;
  auto it = state.tags.find(id);
  if (it != state.tags.end()) out = it->second;
  if (!market_name.empty() && !out.count("Name")) out["Name"] = std::string(market_name);
  return out;
}

void WriteTagSet(XmlWriter& w, const std::map<std::string, std::string>& tags) {
  w.Open("tagSet");
  for (const auto& [k, v] : tags) w.Open("item").Leaf("key", k).Leaf("value", v).Close();
  w.Close();
}

std::map<std::string_view, const SpotRequest*> RequestsByInstance(const AwsFlavor& aws) {
  std::map<std::string_view, const SpotRequest*> out;
  for (const auto& [id, r] : aws.requests()) {
    if (!r.instance_id.empty()) out[r.instance_id] = &r;
  }
  return out;
}

std::string ReservationOf(const Ec2State& state, const Instance& inst) {
  auto it = state.reservation_of.find(inst.id);
  if (it != state.reservation_of.end()) return it->second;
  return "r-" + inst.id.substr(2);
}

void WriteInstanceState(XmlWriter& w, std::string_view element, InstanceState s) {
  w.Open(element).Leaf("code", Ec2StateCode(s)).Leaf("name", Ec2StateName(s)).Close();
}

namespace {

// Why an instance stopped or ended, as EC2's stateReason.
void WriteStateReason(XmlWriter& w, const Instance& inst, const SpotRequest* r) {
  if (inst.state != InstanceState::kTerminated && inst.state != InstanceState::kStopped) return;
  const std::string status = r ? r->status_code : "";
  const bool by_user = !r || status.find("by-user") != std::string::npos ||
                       status == "request-canceled-and-instance-running";
  std::string code, message;
  if (by_user) {
    code = "Client.UserInitiatedShutdown";
    message = "Client.UserInitiatedShutdown: User initiated shutdown";
  } else if (inst.state == InstanceState::kTerminated) {
    code = "Server.SpotInstanceTermination";
    message = "Server.SpotInstanceTermination: Spot instance termination";
  } else {
    code = "Server.SpotInstanceShutdown";
    message = "Server.SpotInstanceShutdown: Spot instance shutdown";
  }
  w.Open("stateReason").Leaf("code", code).Leaf("message", message).Close();
}

}  // namespace

void WriteInstance(XmlWriter& w, const Ec2State& state, const Instance& inst,
                   const SpotRequest* request) {
  const bool gone = inst.state == InstanceState::kTerminated;
  w.Open("item");
  w.Leaf("instanceId", inst.id).Leaf("imageId", inst.image_id);
  WriteInstanceState(w, "instanceState", inst.state);
  w.Leaf("privateDnsName", gone ? "" : inst.hostname).Leaf("dnsName", "").Leaf("reason", "");
  w.Leaf("amiLaunchIndex", 0).Open("productCodes").Close();
  w.Leaf("instanceType", inst.type).Leaf("launchTime", Ec2Time(inst.launch_time));
  w.Open("placement")
      .Leaf("availabilityZone", inst.zone)
      .Leaf("groupName", "")
      .Leaf("tenancy", "default")
      .Close();
  w.Open("monitoring").Leaf("state", "disabled").Close();
  if (!gone) w.Leaf("privateIpAddress", inst.private_ip);
  w.Open("groupSet").Close();
  WriteStateReason(w, inst, request);
  w.Leaf("architecture", "x86_64").Leaf("rootDeviceType", "ebs");
  w.Leaf("rootDeviceName", "/dev/xvda").Open("blockDeviceMapping").Close();
  if (inst.spot) w.Leaf("instanceLifecycle", "spot");
  if (request) w.Leaf("spotInstanceRequestId", request->id);
  w.Leaf("virtualizationType", "hvm").Leaf("clientToken", "");
  WriteTagSet(w, TagsOf(state, inst.id, inst.name));
  w.Leaf("hypervisor", "xen").Open("networkInterfaceSet").Close();
  w.BoolLeaf("ebsOptimized", false).BoolLeaf("enaSupport", true);
  w.Open("hibernationOptions").BoolLeaf("configured", false).Close();
  w.Leaf("platformDetails", "Linux/UNIX").Leaf("usageOperation", "RunInstances");
  w.Close();
}

namespace {

std::string_view StatusMessage(std::string_view code) {
  static const std::pair<std::string_view, std::string_view> kMessages[] = {
      {"pending-evaluation",
       "Your Spot request has been submitted for review, and is pending evaluation."},
      {"pending-fulfillment", "Your Spot request is pending fulfillment."},
      {"fulfilled", "Your spot request is fulfilled."},
      {"price-too-low",
       "Your Spot request price is lower than the minimum required Spot request fulfillment "
       "price."},
      {"capacity-not-available",
       "There is no capacity available for the instance type you requested."},
      {"not-scheduled-yet", "Your Spot request will not be evaluated until the scheduled date."},
      {"launch-group-constraint",
       "Your Spot request cannot be fulfilled until all instances in the launch group can be "
       "launched."},
      {"az-group-constraint",
       "Your Spot request cannot be fulfilled in the availability zone group."},
      {"constraint-not-fulfillable",
       "Your Spot request cannot be fulfilled because of its constraints."},
      {"bad-parameters", "Your Spot request is not valid: no pool sells this instance type here."},
      {"schedule-expired", "Your Spot request has expired."},
      {"canceled-before-fulfillment", "Your Spot request was canceled before it was fulfilled."},
      {"marked-for-termination", "Your Spot Instance is marked for termination."},
      {"marked-for-stop", "Your Spot Instance is marked for stop."},
      {"request-canceled-and-instance-running",
       "Spot request was canceled, and the instance is still running."},
      {"instance-terminated-by-price",
       "Your Spot Instance was terminated because the Spot price exceeded your maximum price."},
      {"instance-terminated-no-capacity",
       "Your Spot Instance was terminated because there was no Spot capacity available."},
      {"instance-terminated-by-user", "Your Spot Instance was terminated by you."},
      {"instance-terminated-by-schedule", "Your Spot block ended."},
      {"instance-terminated-by-service", "Your Spot Instance was terminated by the service."},
      {"instance-stopped-by-price",
       "Your Spot Instance was stopped because the Spot price exceeded your maximum price."},
      {"instance-stopped-no-capacity",
       "Your Spot Instance was stopped because there was no Spot capacity available."},
      {"instance-stopped-by-user", "Your Spot Instance was stopped by you."},
      {"system-error", "Your Spot request failed because of a system error."},
  };
  for (const auto& [c, m] : kMessages) {
    if (c == code) return m;
  }
  return "";
}

}  // namespace

void WriteSpotRequest(XmlWriter& w, const Ec2State& state, const SpotRequest& r) {
  const SpotRequestSpec& s = r.spec;
  w.Open("item");
  w.Leaf("spotInstanceRequestId", r.id).Leaf("spotPrice", Ec2Price(r.max_price));
  w.Leaf("type", SpotRequestTypeName(s.type)).Leaf("state", r.state);
  if (r.state == spot_state::kFailed) {
    w.Open("fault")
        .Leaf("code", r.status_code)
        .Leaf("message", StatusMessage(r.status_code))
        .Close();
  }
  w.Open("status")
      .Leaf("code", r.status_code)
      .Leaf("updateTime", Ec2Time(r.status_update_time))
      .Leaf("message", StatusMessage(r.status_code))
      .Close();
  if (s.valid_from) w.Leaf("validFrom", Ec2Time(*s.valid_from));
  if (s.valid_until) w.Leaf("validUntil", Ec2Time(*s.valid_until));
  w.LeafIfSet("launchGroup", s.launch_group);
  w.LeafIfSet("availabilityZoneGroup", s.availability_zone_group);
  w.Open("launchSpecification").Leaf("instanceType", s.instance_type);
  if (!s.zone.empty()) w.Open("placement").Leaf("availabilityZone", s.zone).Close();
  w.Open("groupSet").Close().Open("monitoring").BoolLeaf("enabled", false).Close().Close();
  w.LeafIfSet("instanceId", r.instance_id);
  w.Leaf("createTime", Ec2Time(r.create_time)).Leaf("productDescription", "Linux/UNIX");
  if (s.block_duration_minutes > 0) w.Leaf("blockDurationMinutes", s.block_duration_minutes);
  if (r.block_hourly_price) w.Leaf("actualBlockHourlyPrice", Ec2Price(*r.block_hourly_price));
  WriteTagSet(w, TagsOf(state, r.id));
  w.LeafIfSet("launchedAvailabilityZone", r.launched_zone);
  w.Leaf("instanceInterruptionBehavior", InterruptionBehaviorName(s.interruption_behavior));
  w.Close();
}

}  // namespace lastcall::mock::ec2
