// Instances: DescribeInstances, TerminateInstances, StopInstances, StartInstances,
// DescribeInstanceStatus. The instances are the market's AWS instances (both spot and
// on-demand); the user actions are the AWS flavor's, checked for every id before any is applied.
#include <algorithm>
#include <string>
#include <vector>

#include "mockmeta/core/event_log.h"
#include "mockmeta/ec2api/ec2_action.h"

namespace lastcall::mock::ec2 {
namespace {

const Instance* FindAws(const Market& market, std::string_view id) {
  const Instance* inst = market.FindInstance(id);
  return inst && inst->flavor == FlavorKind::kAws ? inst : nullptr;
}

MaybeError CheckInstanceIds(const Market& market, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (!IsInstanceId(id)) {
      return Ec2Error{Ec2ErrorCode::kInvalidInstanceIdMalformed,
                      "Invalid id: \"" + id.substr(0, 64) + "\" (expecting \"i-...\")"};
    }
  }
  for (const std::string& id : ids) {
    if (!FindAws(market, id)) {
      return Ec2Error{Ec2ErrorCode::kInvalidInstanceIdNotFound,
                      "The instance ID '" + id + "' does not exist"};
    }
  }
  return std::nullopt;
}

std::vector<std::string> InstanceField(const Instance& inst, const SpotRequest* r,
                                       const Ec2State& state, std::string_view name) {
  auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
  if (name == "instance-id") return one(inst.id);
  if (name == "instance-state-name") return one(std::string(Ec2StateName(inst.state)));
  if (name == "instance-state-code") return one(std::to_string(Ec2StateCode(inst.state)));
  if (name == "instance-type") return one(inst.type);
  if (name == "availability-zone") return one(inst.zone);
  if (name == "instance-lifecycle") return inst.spot ? one("spot") : std::vector<std::string>{};
  if (name == "spot-instance-request-id") return r ? one(r->id) : std::vector<std::string>{};
  if (name == "private-ip-address") return one(inst.private_ip);
  if (name == "private-dns-name") return one(inst.hostname);
  if (name == "image-id") return one(inst.image_id);
  if (name == "reservation-id") return one(ReservationOf(state, inst));
  if (name == "owner-id") return one(inst.account_id);
  return TagField(name, TagsOf(state, inst.id, inst.name));
}

MaybeError DescribeInstances(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> ids = p.List("InstanceId");
  std::vector<Filter> filters = p.Filters();
  std::optional<long long> max = p.MaxResults(5, 1000);
  std::optional<std::string> token = p.String("NextToken");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (max && !ids.empty()) {
    return Ec2Error{Ec2ErrorCode::kInvalidParameterCombination,
                    "The parameter instancesSet cannot be used with the parameter maxResults"};
  }
  if (MaybeError e = CheckFilters(
          filters,
          {"instance-id", "instance-state-name", "instance-state-code", "instance-type",
           "availability-zone", "instance-lifecycle", "spot-instance-request-id",
           "private-ip-address", "private-dns-name", "image-id", "reservation-id", "owner-id"},
          true)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market& market, AwsFlavor& aws, Ec2State& state) -> MaybeError {
    if (MaybeError e = CheckInstanceIds(market, ids)) return e;
    const auto by_instance = RequestsByInstance(aws);
    auto request_of = [&](const Instance& inst) -> const SpotRequest* {
      auto it = by_instance.find(inst.id);
      return it == by_instance.end() ? nullptr : it->second;
    };
    // Sorted by (reservation, instance): a reservation's instances are adjacent.
    std::vector<std::pair<std::string, const Instance*>> chosen;
    auto consider = [&](const Instance& inst) {
      if (inst.flavor != FlavorKind::kAws) return;
      const SpotRequest* r = request_of(inst);
      if (!Matches(filters, [&](std::string_view n) { return InstanceField(inst, r, state, n); })) {
        return;
      }
      chosen.emplace_back(ReservationOf(state, inst) + "/" + inst.id, &inst);
    };
    if (ids.empty()) {
      for (const auto& [id, inst] : market.instances()) consider(inst);
    } else {
      for (const std::string& id : ids) consider(*FindAws(market, id));
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    std::vector<std::string> keys;
    keys.reserve(chosen.size());
    for (const auto& c : chosen) keys.push_back(c.first);
    Page page;
    if (MaybeError e = Paginate(keys, max, token, page)) return e;
    out.Open("reservationSet");
    for (size_t i = page.begin; i < page.end;) {
      const Instance& first = *chosen[i].second;
      const std::string reservation = ReservationOf(state, first);
      out.Open("item").Leaf("reservationId", reservation).Leaf("ownerId", first.account_id);
      out.Open("groupSet").Close().Open("instancesSet");
      for (; i < page.end && ReservationOf(state, *chosen[i].second) == reservation; ++i) {
        WriteInstance(out, state, *chosen[i].second, request_of(*chosen[i].second));
      }
      out.Close().Close();
    }
    out.Close();
    out.LeafIfSet("nextToken", page.next_token);
    return std::nullopt;
  });
}

// What a user action needs checked for every id before any of them is applied (EC2 applies a
// call to all its instances or to none).
enum class UserAction { kTerminate, kStop, kStart };

MaybeError Precheck(const Market& market, const AwsFlavor& aws, const std::vector<std::string>& ids,
                    UserAction action) {
  const auto by_instance = RequestsByInstance(aws);
  std::map<int, int> starts;  // pool -> spot instances to start there
  for (const std::string& id : ids) {
    const Instance& inst = *FindAws(market, id);
    auto it = by_instance.find(inst.id);
    const SpotRequest* r = it == by_instance.end() ? nullptr : it->second;
    auto incorrect = [&](std::string_view what) {
      return Ec2Error{Ec2ErrorCode::kIncorrectInstanceState,
                      "The instance '" + id + "' is not in a state from which it can be " +
                          std::string(what) + " (it is " + std::string(Ec2StateName(inst.state)) +
                          ")"};
    };
    if (action == UserAction::kStop) {
      if (inst.state == InstanceState::kStopped) continue;
      if (inst.state != InstanceState::kRunning) return incorrect("stopped");
      if (inst.spot && (!r || r->spec.type != SpotRequestType::kPersistent ||
                        r->spec.block_duration_minutes > 0)) {
        return Ec2Error{Ec2ErrorCode::kUnsupportedOperation,
                        "The instance '" + id +
                            "' is a spot instance of a one-time request and cannot be stopped"};
      }
    } else if (action == UserAction::kStart) {
      if (inst.state == InstanceState::kRunning) continue;
      if (inst.state != InstanceState::kStopped) return incorrect("started");
      if (!inst.spot) continue;
      const Pool& pool = market.catalog().pool(inst.pool);
      if (r && pool.price > r->max_price) {
        return Ec2Error{Ec2ErrorCode::kSpotMaxPriceTooLow,
                        "The max price " + Ec2Price(r->max_price) + " of instance '" + id +
                            "' is below the spot price " + Ec2Price(pool.price)};
      }
      if (++starts[inst.pool] > pool.Free()) {
        return Ec2Error{
            Ec2ErrorCode::kInsufficientInstanceCapacity,
            "There is no Spot capacity available for instance '" + id + "' in " + pool.id};
      }
    }
  }
  return std::nullopt;
}

MaybeError ChangeState(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out, UserAction action) {
  ParamReader p(call.params);
  std::vector<std::string> ids = p.List("InstanceId");
  if (action == UserAction::kStop) p.Bool("Hibernate");  // accepted: the market stops either way
  if (action == UserAction::kStop) p.Bool("Force");
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (ids.empty()) {
    return Ec2Error{Ec2ErrorCode::kMissingParameter,
                    "The request must contain the parameter InstanceId"};
  }
  MaybeError result = ctx.With([&](Market& market, AwsFlavor& aws, Ec2State&) -> MaybeError {
    if (MaybeError e = CheckInstanceIds(market, ids)) return e;
    if (MaybeError e = Precheck(market, aws, ids, action)) return e;
    if (dry_run) return DryRunError();
    std::vector<InstanceState> before;
    before.reserve(ids.size());
    for (const std::string& id : ids) before.push_back(FindAws(market, id)->state);
    for (const std::string& id : ids) {
      Status s = action == UserAction::kTerminate ? aws.TerminateInstance(id, cause::kUser)
                 : action == UserAction::kStop    ? aws.StopInstance(id, cause::kUser)
                                                  : aws.StartInstance(id, cause::kUser);
      // The prechecks make this unreachable; if the market disagrees, say so rather than hide it.
      if (!s.ok()) return MarketError(s);
    }
    if (Status s = market.AdvanceTo(market.now()); !s.ok()) return MarketError(s);
    out.Open("instancesSet");
    for (size_t i = 0; i < ids.size(); ++i) {
      out.Open("item").Leaf("instanceId", ids[i]);
      WriteInstanceState(out, "currentState", FindAws(market, ids[i])->state);
      WriteInstanceState(out, "previousState", before[i]);
      out.Close();
    }
    out.Close();
    return std::nullopt;
  });
  if (!result) ctx.Changed();
  return result;
}

MaybeError TerminateInstances(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  return ChangeState(ctx, call, out, UserAction::kTerminate);
}
MaybeError StopInstances(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  return ChangeState(ctx, call, out, UserAction::kStop);
}
MaybeError StartInstances(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  return ChangeState(ctx, call, out, UserAction::kStart);
}

void WriteStatusSummary(XmlWriter& out, std::string_view element, bool running) {
  out.Open(element).Leaf("status", running ? "ok" : "not-applicable").Open("details");
  out.Open("item")
      .Leaf("name", "reachability")
      .Leaf("status", running ? "passed" : "not-applicable");
  out.Close().Close().Close();
}

void WriteInstanceStatus(XmlWriter& out, const Market& market, const Instance& inst) {
  out.Open("item").Leaf("instanceId", inst.id).Leaf("availabilityZone", inst.zone);
  Result<MetadataView> view = market.Metadata(inst.id);
  if (view.ok() && !view->scheduled_events.empty()) {
    out.Open("eventsSet");
    for (const ScheduledEvent& e : view->scheduled_events) {
      out.Open("item").Leaf("instanceEventId", e.event_id).Leaf("code", e.code);
      out.Leaf("description", e.description).Leaf("notBefore", Ec2Time(e.not_before));
      if (e.not_after) out.Leaf("notAfter", Ec2Time(*e.not_after));
      if (e.not_before_deadline) out.Leaf("notBeforeDeadline", Ec2Time(*e.not_before_deadline));
      out.Close();
    }
    out.Close();
  }
  WriteInstanceState(out, "instanceState", inst.state);
  const bool running = inst.state == InstanceState::kRunning;
  WriteStatusSummary(out, "systemStatus", running);
  WriteStatusSummary(out, "instanceStatus", running);
  out.Close();
}

std::vector<std::string> StatusField(const Market& market, const Instance& inst,
                                     std::string_view name) {
  auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
  const bool running = inst.state == InstanceState::kRunning;
  if (name == "availability-zone") return one(inst.zone);
  if (name == "instance-state-name") return one(std::string(Ec2StateName(inst.state)));
  if (name == "instance-state-code") return one(std::to_string(Ec2StateCode(inst.state)));
  if (name == "instance-status.status" || name == "system-status.status") {
    return one(running ? "ok" : "not-applicable");
  }
  std::vector<std::string> out;
  Result<MetadataView> view = market.Metadata(inst.id);
  if (!view.ok()) return out;
  for (const ScheduledEvent& e : view->scheduled_events) {
    if (name == "event.code") out.push_back(e.code);
    if (name == "event.description") out.push_back(e.description);
    if (name == "event.instance-event-id") out.push_back(e.event_id);
  }
  return out;
}

MaybeError DescribeInstanceStatus(Ec2Context& ctx, const Ec2Call& call, XmlWriter& out) {
  ParamReader p(call.params);
  std::vector<std::string> ids = p.List("InstanceId");
  std::vector<Filter> filters = p.Filters();
  std::optional<long long> max = p.MaxResults(5, 1000);
  std::optional<std::string> token = p.String("NextToken");
  const bool all = p.Bool("IncludeAllInstances").value_or(false);
  const bool dry_run = DryRun(p);
  if (!p.ok()) return p.error();
  if (MaybeError e =
          CheckFilters(filters,
                       {"availability-zone", "instance-state-name", "instance-state-code",
                        "instance-status.status", "system-status.status", "event.code",
                        "event.description", "event.instance-event-id"},
                       false)) {
    return e;
  }
  if (dry_run) return DryRunError();
  return ctx.With([&](Market& market, AwsFlavor&, Ec2State&) -> MaybeError {
    if (MaybeError e = CheckInstanceIds(market, ids)) return e;
    std::vector<const Instance*> chosen;
    std::vector<std::string> keys;
    for (const auto& [id, inst] : market.instances()) {
      if (inst.flavor != FlavorKind::kAws) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      if (!all && inst.state != InstanceState::kRunning) continue;
      // A named reference: clang before 16 cannot capture a structured binding (fuzz preset).
      const Instance& instance = inst;
      if (!Matches(filters, [&](std::string_view n) { return StatusField(market, instance, n); })) {
        continue;
      }
      chosen.push_back(&inst);
      keys.push_back(id);
    }
    Page page;
    if (MaybeError e = Paginate(keys, max, token, page)) return e;
    out.Open("instanceStatusSet");
    for (size_t i = page.begin; i < page.end; ++i) WriteInstanceStatus(out, market, *chosen[i]);
    out.Close();
    out.LeafIfSet("nextToken", page.next_token);
    return std::nullopt;
  });
}

}  // namespace

void RegisterInstanceActions(ActionTable& table) {
  table["DescribeInstances"] = &DescribeInstances;
  table["TerminateInstances"] = &TerminateInstances;
  table["StopInstances"] = &StopInstances;
  table["StartInstances"] = &StartInstances;
  table["DescribeInstanceStatus"] = &DescribeInstanceStatus;
}

}  // namespace lastcall::mock::ec2
