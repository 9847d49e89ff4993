// AwsFlavor: fulfilling open spot requests. EvaluateOpen serves them first come, first served;
// ChoosePool picks the cheapest allowed pool with a free slot (AvailabilityZoneGroup included),
// launch groups launch all or none (and say why they wait), and Launch starts the instance.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/aws/aws.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {

std::string AwsFlavor::AzGroupZone(const SpotRequest& r) const {
  if (r.spec.availability_zone_group.empty()) return "";
  const SpotRequest* first = nullptr;
  for (const auto& [id, o] : requests_) {
    if (o.spec.availability_zone_group == r.spec.availability_zone_group &&
        !o.launched_zone.empty() && (!first || o.seq < first->seq))
      first = &o;
  }
  return first ? first->launched_zone : "";
}

int AwsFlavor::ChoosePool(const SpotRequest& r, const std::map<int, int>& promised,
                          std::string* why) const {
  const std::string az = AzGroupZone(r);
  int best = -1;
  bool price_ok_somewhere = false;
  bool outside_az_group = false;
  for (const Pool& p : market_.catalog().pools()) {
    if (p.type != r.spec.instance_type) continue;
    if (!r.spec.zone.empty() && p.zone != r.spec.zone) continue;
    if (p.price > r.max_price) continue;
    auto it = promised.find(p.index);
    const int free = p.Free() - (it == promised.end() ? 0 : it->second);
    if (!az.empty() && p.zone != az) {
      outside_az_group |= free > 0;
      continue;
    }
    price_ok_somewhere = true;
    if (free <= 0) continue;
    if (best < 0 || p.price < market_.catalog().pool(best).price) best = p.index;
  }
  if (best < 0 && why) {
    *why = outside_az_group     ? "az-group-constraint"
           : price_ok_somewhere ? "capacity-not-available"
                                : "price-too-low";
  }
  return best;
}

void AwsFlavor::EvaluateOpen() {
  const WallTime now = market_.now();
  std::vector<SpotRequest*> open;
  for (auto& [id, r] : waiting_) {
    if (r->state == spot_state::kOpen) open.push_back(r);
  }
  std::sort(open.begin(), open.end(),
            [](const SpotRequest* a, const SpotRequest* b) { return a->seq < b->seq; });
  std::set<std::string> groups_done;
  for (SpotRequest* r : open) {
    if (r->state != spot_state::kOpen) continue;  // launched with its group this pass
    if (r->spec.valid_from && now < *r->spec.valid_from) {
      SetRequest(*r, spot_state::kOpen, "not-scheduled-yet", cause::kSchedule,
                 "ValidFrom " + FormatRfc3339(*r->spec.valid_from));
      continue;
    }
    if (r->spec.launch_group.empty()) {
      EvaluateAlone(*r);
    } else if (groups_done.insert(r->spec.launch_group).second) {
      EvaluateLaunchGroup(open, r->spec.launch_group);
    }
  }
}

void AwsFlavor::EvaluateAlone(SpotRequest& r) {
  std::string why;
  const int pool = ChoosePool(r, {}, &why);
  if (pool >= 0) {
    (void)Launch(r, pool, cause::kMarket);
    return;
  }
  SetRequest(r, spot_state::kOpen, why, why == "price-too-low" ? cause::kPrice : cause::kCapacity,
             why == "az-group-constraint"
                 ? "AvailabilityZoneGroup \"" + r.spec.availability_zone_group + "\" is bound to " +
                       AzGroupZone(r)
                 : std::string());
}

// Launch group: every open, in-schedule member must fit at once, or none launches.
void AwsFlavor::EvaluateLaunchGroup(const std::vector<SpotRequest*>& open,
                                    const std::string& group) {
  const WallTime now = market_.now();
  std::vector<SpotRequest*> members;
  for (SpotRequest* m : open) {
    if (m->state == spot_state::kOpen && m->spec.launch_group == group &&
        !(m->spec.valid_from && now < *m->spec.valid_from)) {
      members.push_back(m);
    }
  }
  if (members.empty()) return;
  std::map<int, int> promised;
  std::vector<int> chosen;
  std::vector<std::string> whys(members.size());
  bool all = true;
  for (size_t i = 0; i < members.size(); ++i) {
    const int pool = ChoosePool(*members[i], promised, &whys[i]);
    chosen.push_back(pool);
    if (pool < 0) {
      all = false;
    } else {
      ++promised[pool];
    }
  }
  if (!all) {
    ExplainLaunchGroupWait(members, members.front()->spec, group);
    return;
  }
  for (size_t i = 0; i < members.size(); ++i) {
    (void)Launch(*members[i], chosen[i], cause::kMarket);
  }
}

// A group larger than every pool it may use could ever hold is not fulfillable as it stands; a
// member that cannot launch even alone says why; the others wait for the group.
void AwsFlavor::ExplainLaunchGroupWait(const std::vector<SpotRequest*>& members,
                                       const SpotRequestSpec& spec, const std::string& group) {
  int total_capacity = 0;
  for (const Pool& p : market_.catalog().pools()) {
    if (p.type == spec.instance_type && (spec.zone.empty() || p.zone == spec.zone))
      total_capacity += p.capacity;
  }
  const bool unfulfillable = static_cast<int>(members.size()) > total_capacity;
  const std::string what =
      "launch group \"" + group + "\" (" + std::to_string(members.size()) + " requests)";
  for (SpotRequest* m : members) {
    std::string why;
    const bool alone = ChoosePool(*m, {}, &why) >= 0;
    if (unfulfillable) {
      SetRequest(*m, spot_state::kOpen, "constraint-not-fulfillable", cause::kCapacity,
                 what + " exceeds total capacity " + std::to_string(total_capacity));
    } else if (alone) {
      SetRequest(*m, spot_state::kOpen, "launch-group-constraint", cause::kCapacity,
                 what + " cannot launch together");
    } else {
      SetRequest(*m, spot_state::kOpen, why,
                 why == "price-too-low" ? cause::kPrice : cause::kCapacity, what);
    }
  }
}

Status AwsFlavor::Launch(SpotRequest& r, int pool_index, std::string_view cause) {
  const Pool& pool = market_.catalog().pool(pool_index);
  SetRequest(r, spot_state::kOpen, "pending-fulfillment", cause, pool.id);
  Instance inst;
  inst.flavor = FlavorKind::kAws;
  inst.type = pool.type;
  inst.zone = pool.zone;
  inst.spot = true;
  inst.state = InstanceState::kRunning;
  inst.name = r.spec.name;
  inst.settings = r.spec.settings;
  Result<Instance*> added = market_.AddInstance(
      inst, true, cause, "spot request " + r.id + " at " + FormatPrice(pool.price));
  if (!added.ok()) {
    // Cannot happen with a pool chosen for its free capacity; reported as EC2 would.
    SetRequest(r, spot_state::kClosed, "system-error", cause::kService,
               CloudErrorText(added.status()));
    return added.status();
  }
  Instance& launched = **added;
  AwsInstance& ai = instances_[launched.id];
  ai.inst = &launched;
  ai.request_id = r.id;
  ai.max_price = r.max_price;
  IndexOf(pool_index)->insert({ai.max_price, &ai});
  ai.behavior = r.spec.interruption_behavior;
  ai.runs.push_back({market_.now(), std::nullopt, false});
  r.instance_id = launched.id;
  r.launched_zone = pool.zone;
  if (r.spec.block_duration_minutes > 0) {
    ai.block = true;
    ai.block_price = pool.price;
    ai.block_end = market_.now() + std::chrono::minutes(r.spec.block_duration_minutes);
    r.block_hourly_price = pool.price;
    Due(ai.block_end - kNoticeLead, "block:" + launched.id);
  }
  SetRequest(r, spot_state::kActive, "fulfilled", cause, "instance " + launched.id);
  return Status::Ok();
}

}  // namespace lastcall::mock
