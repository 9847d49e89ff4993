// Instance actions: DescribeInstances, DescribeInstanceStatus, StopInstance(s),
// StartInstance(s), RebootInstance, DeleteInstance(s). Each reads its parameters, checks every
// named instance before changing any (a batch is applied whole or refused), then acts through
// the AlibabaFlavor, whose errors keep Alibaba's codes.
#include <algorithm>
#include <string>
#include <vector>

#include "mockmeta/core/event_log.h"
#include "mockmeta/ecsapi/ecs_action.h"

namespace lastcall::mock::ecs {
namespace {

constexpr size_t kMaxBatch = 100;

enum class Op { kStop, kStart, kReboot, kDelete };

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kStop:
      return "StopInstance";
    case Op::kStart:
      return "StartInstance";
    case Op::kReboot:
      return "RebootInstance";
    case Op::kDelete:
      return "DeleteInstance";
  }
  return "";
}

// Whether `op` may run on the instance now (the state part; price and stock are the flavor's).
MaybeError CheckOp(const AlibabaFlavor& ali, std::string_view id, Op op, bool force,
                   std::string* status_out = nullptr) {
  Result<AlibabaInstanceInfo> info = ali.Describe(id);
  if (!info.ok() || info->status == "Released") {
    return EcsError{EcsErrorCode::kInvalidInstanceIdNotFound,
                    "The specified InstanceId " + Quote(id) + " does not exist."};
  }
  if (status_out) *status_out = info->status;
  const bool locked = !info->operation_locks.empty();
  bool ok = false;
  switch (op) {
    case Op::kStop:
    case Op::kReboot:
      ok = info->status == "Running" && !locked;
      break;
    case Op::kStart:
      ok = info->status == "Stopped" && !locked;
      break;
    case Op::kDelete:
      ok = force || info->status == "Stopped";
      break;
  }
  if (ok) return std::nullopt;
  return EcsError{EcsErrorCode::kIncorrectInstanceStatus,
                  "The current status of the resource does not support this operation: " +
                      std::string(OpName(op)) + " on " + info->instance_id + " (" + info->status +
                      (locked ? ", OperationLocks: Recycling" : "") + ")."};
}

Status Apply(Market& market, AlibabaFlavor& ali, const std::string& id, Op op, StoppedMode mode,
             bool force) {
  switch (op) {
    case Op::kStop:
      return ali.StopInstance(id, mode, cause::kUser);
    case Op::kStart:
      return ali.StartInstance(id, cause::kUser);
    case Op::kDelete:
      return ali.DeleteInstance(id, force, cause::kUser);
    case Op::kReboot:
      // A reboot keeps the instance, its slot, its bid and its bill: only the log records it.
      market.Log("instance", id, "running", "running", cause::kUser, "RebootInstance");
      return Status::Ok();
  }
  return Status::Ok();
}

std::optional<StoppedMode> ReadStoppedMode(EcsParamReader& r) {
  std::optional<std::string> s = r.String("StoppedMode");
  if (!s || !r.ok()) return std::nullopt;
  Result<StoppedMode> m = ParseStoppedMode(*s);
  if (!m.ok()) {
    r.Fail(EcsErrorCode::kInvalidStoppedMode,
           "The specified parameter \"StoppedMode\" is not valid: " + Quote(*s) +
               " (KeepCharging or StopCharging).");
    return std::nullopt;
  }
  return *m;
}

// StopInstance, StartInstance, RebootInstance, DeleteInstance: one instance, no RegionId.
MaybeError OneInstance(EcsContext& ctx, const EcsCall& call, Op op) {
  EcsParamReader r(call.params);
  std::optional<std::string> id = r.String("InstanceId", true);
  const bool dry = r.Bool("DryRun").value_or(false);
  const bool force = r.Bool("Force").value_or(false);
  r.Bool("ForceStop");
  std::optional<StoppedMode> mode = op == Op::kStop ? ReadStoppedMode(r) : std::nullopt;
  if (!r.ok()) return r.error();
  MaybeError e = ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckOp(ali, *id, op, force)) return bad;
    if (dry) return DryRunError();
    Status s = Apply(market, ali, *id, op, mode.value_or(StoppedMode::kKeepCharging), force);
    return s.ok() ? MaybeError() : FromMarketStatus(s);
  });
  if (!e) ctx.Changed();
  return e;
}

MaybeError StopInstance(EcsContext& c, const EcsCall& call, json&) {
  return OneInstance(c, call, Op::kStop);
}
MaybeError StartInstance(EcsContext& c, const EcsCall& call, json&) {
  return OneInstance(c, call, Op::kStart);
}
MaybeError RebootInstance(EcsContext& c, const EcsCall& call, json&) {
  return OneInstance(c, call, Op::kReboot);
}
MaybeError DeleteInstance(EcsContext& c, const EcsCall& call, json&) {
  return OneInstance(c, call, Op::kDelete);
}

// StopInstances, StartInstances, DeleteInstances: InstanceId.N in one region.
// BatchOptimization=AllTogether (the default) checks every instance first and refuses the
// whole batch on the first problem; SuccessFirst acts on each and reports each.
MaybeError Batch(EcsContext& ctx, const EcsCall& call, json& body, Op op) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  std::vector<std::string> ids = r.RepeatList("InstanceId", kMaxBatch);
  const bool dry = r.Bool("DryRun").value_or(false);
  const bool force = r.Bool("Force").value_or(false);
  r.Bool("ForceStop");
  std::optional<StoppedMode> mode = op == Op::kStop ? ReadStoppedMode(r) : std::nullopt;
  std::optional<std::string> batch = r.String("BatchOptimization");
  if (r.ok() && ids.empty()) r.String("InstanceId.1", true);
  if (r.ok() && batch && *batch != "AllTogether" && *batch != "SuccessFirst") {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"BatchOptimization\" is not valid: " + Quote(*batch) + ".");
  }
  if (!r.ok()) return r.error();
  const bool success_first = batch && *batch == "SuccessFirst" && op != Op::kDelete;
  MaybeError e = ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    std::vector<std::string> before(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      MaybeError bad = CheckOp(ali, ids[i], op, force, &before[i]);
      if (bad && !success_first) return bad;
      if (bad && bad->code == EcsErrorCode::kInvalidInstanceIdNotFound) return bad;
    }
    if (dry) return DryRunError();
    json responses = json::array();
    for (size_t i = 0; i < ids.size(); ++i) {
      MaybeError bad = CheckOp(ali, ids[i], op, force);
      Status s =
          bad ? Status::Ok()
              : Apply(market, ali, ids[i], op, mode.value_or(StoppedMode::kKeepCharging), force);
      if (!bad && !s.ok()) bad = FromMarketStatus(s);
      if (bad && !success_first) return bad;
      Result<AlibabaInstanceInfo> now = ali.Describe(ids[i]);
      responses.push_back({{"InstanceId", ids[i]},
                           {"Code", bad ? std::string(EcsErrorCodeName(bad->code)) : "200"},
                           {"Message", bad ? bad->message : "success"},
                           {"PreviousStatus", before[i]},
                           {"CurrentStatus", now.ok() ? now->status : before[i]}});
    }
    if (op != Op::kDelete) body["InstanceResponses"] = {{"InstanceResponse", responses}};
    return std::nullopt;
  });
  if (!e) ctx.Changed();
  return e;
}

MaybeError StopInstances(EcsContext& c, const EcsCall& call, json& b) {
  return Batch(c, call, b, Op::kStop);
}
MaybeError StartInstances(EcsContext& c, const EcsCall& call, json& b) {
  return Batch(c, call, b, Op::kStart);
}
MaybeError DeleteInstances(EcsContext& c, const EcsCall& call, json& b) {
  return Batch(c, call, b, Op::kDelete);
}

constexpr std::string_view kStatuses[] = {"Pending",  "Running", "Starting",
                                          "Stopping", "Stopped", "Released"};

// DescribeInstances' Status of an instance, as AlibabaFlavor describes it (transitions are
// instantaneous: To Be Released is still Running, with the Recycling lock).
std::string_view AliStatus(InstanceState s) {
  switch (s) {
    case InstanceState::kStopped:
      return "Stopped";
    case InstanceState::kTerminated:
      return "Released";
    default:
      return "Running";
  }
}

struct InstanceFilter {
  std::string region;
  std::vector<std::string> ids;
  std::optional<std::string> status, zone, type, name;
  std::vector<EcsTag> tags;
  bool released = false;  // Released instances are listed

  // Checked on the market's record, so a describe of 10,000 instances builds the full
  // description of one page only.
  bool Matches(const Instance& i, const EcsState& state) const {
    if (i.flavor != FlavorKind::kAlibaba || i.region != region) return false;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), i.id) == ids.end()) return false;
    const std::string_view st = AliStatus(i.state);
    if (status ? st != *status : (st == "Released" && !released)) return false;
    if (zone && i.zone != *zone) return false;
    if (type && i.type != *type) return false;
    if (name && i.name != *name) return false;
    if (!tags.empty()) {
      auto it = state.tags.find(i.id);
      if (it == state.tags.end()) return false;
      for (const EcsTag& t : tags) {
        auto v = it->second.find(t.key);
        if (v == it->second.end() || (!t.value.empty() && v->second != t.value)) return false;
      }
    }
    return true;
  }
};

// The page [begin, end) of `hits` (ascending ids) and the answer's paging fields.
MaybeError PageOf(const std::vector<const Instance*>& hits, const PageRequest& page,
                  std::optional<long long> max_results, const std::optional<std::string>& token,
                  json& body, size_t& begin, size_t& end) {
  if (!max_results && !token) {
    begin = std::min(hits.size(), static_cast<size_t>((page.number - 1) * page.size));
    end = std::min(hits.size(), begin + static_cast<size_t>(page.size));
    body["PageNumber"] = page.number;
    body["PageSize"] = page.size;
    return std::nullopt;
  }
  begin = 0;
  if (token) {
    auto it = std::lower_bound(hits.begin(), hits.end(), *token,
                               [](const Instance* i, const std::string& t) { return i->id < t; });
    if (it == hits.end() || (*it)->id != *token) {
      return EcsError{EcsErrorCode::kInvalidParameter,
                      "The specified parameter \"NextToken\" is not valid."};
    }
    begin = static_cast<size_t>(it - hits.begin());
  }
  end = std::min(hits.size(), begin + static_cast<size_t>(max_results.value_or(10)));
  body["NextToken"] = end < hits.size() ? hits[end]->id : "";
  return std::nullopt;
}

// DescribeInstances: released instances only when named in InstanceIds or asked for with
// Status=Released (the simulation keeps them; ECS forgets them soon after).
MaybeError DescribeInstances(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  InstanceFilter f;
  f.region = r.String("RegionId", true).value_or("");
  f.ids = r.JsonList("InstanceIds", 100);
  f.status = r.String("Status");
  f.zone = r.String("ZoneId");
  f.type = r.String("InstanceType");
  f.name = r.String("InstanceName");
  f.tags = r.Tags("Tag", 20);
  f.released = !f.ids.empty();
  const bool dry = r.Bool("DryRun").value_or(false);
  const PageRequest page = ReadPage(r, 10, 100);
  std::optional<long long> max_results = r.Integer("MaxResults", 1, 100);
  std::optional<std::string> next_token = r.String("NextToken");
  if (r.ok() && f.status &&
      std::find(std::begin(kStatuses), std::end(kStatuses), *f.status) == std::end(kStatuses)) {
    r.Fail(EcsErrorCode::kInvalidParameter,
           "The specified parameter \"Status\" is not valid: " + Quote(*f.status) + ".");
  }
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState& state) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, f.region)) return bad;
    if (dry) return DryRunError();
    std::vector<const Instance*> hits;  // market.instances() is ordered by id
    for (const auto& [id, inst] : market.instances()) {
      if (f.Matches(inst, state)) hits.push_back(&inst);
    }
    size_t begin = 0, end = 0;
    if (MaybeError bad = PageOf(hits, page, max_results, next_token, body, begin, end)) {
      return bad;
    }
    json list = json::array();
    for (size_t i = begin; i < end; ++i) {
      Result<AlibabaInstanceInfo> info = ali.Describe(hits[i]->id);
      if (info.ok()) list.push_back(InstanceJson(market, state, *info));
    }
    body["TotalCount"] = hits.size();
    body["Instances"] = {{"Instance", list}};
    return std::nullopt;
  });
}

MaybeError DescribeInstanceStatus(EcsContext& ctx, const EcsCall& call, json& body) {
  EcsParamReader r(call.params);
  std::optional<std::string> region = r.String("RegionId", true);
  std::vector<std::string> ids = r.RepeatList("InstanceId", 100);
  std::optional<std::string> zone = r.String("ZoneId");
  const PageRequest page = ReadPage(r, 10, 50);
  if (!r.ok()) return r.error();
  return ctx.With([&](Market& market, AlibabaFlavor& ali, EcsState&) -> MaybeError {
    if (MaybeError bad = CheckRegion(market, *region)) return bad;
    json list = json::array();
    size_t total = 0;
    const size_t begin = static_cast<size_t>((page.number - 1) * page.size);
    for (const AlibabaInstanceInfo& i : ali.DescribeAll(false)) {
      if (i.region_id != *region || (zone && i.zone_id != *zone)) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), i.instance_id) == ids.end()) continue;
      if (total >= begin && total < begin + static_cast<size_t>(page.size)) {
        list.push_back({{"InstanceId", i.instance_id}, {"Status", i.status}});
      }
      ++total;
    }
    body["TotalCount"] = total;
    body["PageNumber"] = page.number;
    body["PageSize"] = page.size;
    body["InstanceStatuses"] = {{"InstanceStatus", list}};
    return std::nullopt;
  });
}

}  // namespace

void RegisterInstanceActions(ActionTable& t) {
  t["DescribeInstances"] = DescribeInstances;
  t["DescribeInstanceStatus"] = DescribeInstanceStatus;
  t["StopInstance"] = StopInstance;
  t["StopInstances"] = StopInstances;
  t["StartInstance"] = StartInstance;
  t["StartInstances"] = StartInstances;
  t["RebootInstance"] = RebootInstance;
  t["DeleteInstance"] = DeleteInstance;
  t["DeleteInstances"] = DeleteInstances;
}

}  // namespace lastcall::mock::ecs
