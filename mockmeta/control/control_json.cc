#include "mockmeta/control/control_json.h"

#include <utility>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

constexpr Duration kMaxModelDuration = std::chrono::hours(24 * 3650);

long long UnixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The instance's state in its cloud's words: Alibaba's Status ("Running", "Stopped", "Released";
// "To Be Released" while the Recycling lock is on), AWS's instance state plus the spot request's
// "state/status-code" when a request launched it.
json CloudJson(const World& world, const Instance& i) {
  if (i.flavor == FlavorKind::kAlibaba) {
    Result<AlibabaInstanceInfo> info = world.alibaba().Describe(i.id);
    return info.ok() ? AlibabaInstanceJson(*info) : json(nullptr);
  }
  return AwsCloudJson(world.aws(), i);
}

json CloudState(const World& world, const Instance& i) {
  if (i.flavor == FlavorKind::kAlibaba) {
    Result<AlibabaInstanceInfo> info = world.alibaba().Describe(i.id);
    if (!info.ok()) return nullptr;
    if (info->termination_time && info->status != "Released") return "To Be Released";
    return info->status;
  }
  json aws = AwsCloudJson(world.aws(), i);
  if (aws.is_null()) return nullptr;
  std::string s = aws["State"]["Name"];
  if (aws.contains("SpotRequestState")) {
    s += " (spot request " + aws["SpotRequestState"].get<std::string>() + "/" +
         aws["SpotRequestStatus"].get<std::string>() + ")";
  }
  return s;
}

// The keys a price model of `kind` may carry.
std::vector<std::string> PriceModelKeys(PriceModelKind kind) {
  std::vector<std::string> allowed = {"kind"};
  switch (kind) {
    case PriceModelKind::kFixed:
      break;
    case PriceModelKind::kTrace:
      allowed.insert(allowed.end(), {"steps", "loop", "period"});
      break;
    case PriceModelKind::kWalk:
      allowed.insert(allowed.end(), {"step", "mean", "floor", "volatility", "reversion"});
      break;
    case PriceModelKind::kDemand:
      allowed.insert(allowed.end(), {"step", "base", "smoothing"});
      break;
  }
  return allowed;
}

// The fields of `m.kind` (read by ParsePriceModel once the kind is known).
void ReadPriceModelFields(JsonFields& f, const std::string& where, PriceModel& m) {
  if (m.kind == PriceModelKind::kTrace) {
    if (const json* steps = f.Array("steps", true)) {
      for (size_t i = 0; i < steps->size() && f.ok(); ++i) {
        JsonFields s((*steps)[i], where + ".steps[" + std::to_string(i) + "]", {"at", "price"});
        std::optional<Duration> at = s.DurationField("at", Duration(0), kMaxModelDuration, true);
        std::optional<double> price = s.Number("price", 0, kMaxPrice, true);
        if (!s.ok()) {
          f.Adopt(s.error());
          return;
        }
        m.steps.push_back({*at, *price});
      }
    }
    if (auto loop = f.Bool("loop")) m.loop = *loop;
    if (auto period = f.DurationField("period", Duration(0), kMaxModelDuration)) {
      m.period = *period;
    }
  }
  if (m.kind == PriceModelKind::kWalk || m.kind == PriceModelKind::kDemand) {
    if (auto step = f.DurationField("step", Duration(1), kMaxModelDuration)) m.step = *step;
  }
  if (m.kind == PriceModelKind::kWalk) {
    if (auto v = f.Number("mean", 0, kMaxPrice, true)) m.mean = *v;
    if (auto v = f.Number("floor", 0, kMaxPrice)) m.floor = *v;
    if (auto v = f.Number("volatility", 0, 1e3)) m.volatility = *v;
    if (auto v = f.Number("reversion", 0, 1)) m.reversion = *v;
  }
  if (m.kind == PriceModelKind::kDemand) {
    if (auto v = f.Number("base", 0, kMaxPrice, true)) m.base = *v;
    if (auto v = f.Number("smoothing", 0, 1)) m.smoothing = *v;
  }
}

}  // namespace

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

json ClockJson(const Market& market, const VirtualClock& clock, uint64_t generation) {
  const WallTime now = clock.Now();
  return {{"now", FormatRfc3339(now)},
          {"now_unix_ms", UnixMillis(now)},
          {"mode", std::string(ClockModeName(clock.mode()))},
          {"speed", clock.speed()},
          {"start", FormatRfc3339(market.start())},
          {"generation", generation}};
}

json PriceModelJson(const PriceModel& m) {
  json j = {{"kind", std::string(PriceModelKindName(m.kind))}};
  switch (m.kind) {
    case PriceModelKind::kFixed:
      break;
    case PriceModelKind::kTrace: {
      json steps = json::array();
      for (const TraceStep& s : m.steps) {
        steps.push_back({{"at", FormatDuration(s.offset)}, {"price", s.price}});
      }
      j["steps"] = steps;
      j["loop"] = m.loop;
      if (m.loop) j["period"] = FormatDuration(m.period);
      break;
    }
    case PriceModelKind::kWalk:
      j["step"] = FormatDuration(m.step);
      j["mean"] = m.mean;
      j["floor"] = m.floor;
      j["volatility"] = m.volatility;
      j["reversion"] = m.reversion;
      break;
    case PriceModelKind::kDemand:
      j["step"] = FormatDuration(m.step);
      j["base"] = m.base;
      j["smoothing"] = m.smoothing;
      break;
  }
  return j;
}

json PoolJson(const Pool& p) {
  return {{"id", p.id},
          {"type", p.type},
          {"zone", p.zone},
          {"region", p.region},
          {"on_demand_price", p.on_demand_price},
          {"price", p.price},
          {"capacity", p.capacity},
          {"spot_running", p.spot_running},
          {"free", p.Free()},
          {"shortage", p.Shortage()},
          {"model", PriceModelJson(p.model)}};
}

json EventJson(const Event& e) {
  return {{"seq", e.seq},
          {"time", FormatRfc3339(e.time)},
          {"kind", e.kind},
          {"id", e.id},
          {"old_state", e.old_state},
          {"new_state", e.new_state},
          {"cause", e.cause},
          {"detail", e.detail}};
}

json EventPage(const Market& market, uint64_t cursor, size_t limit, uint64_t generation,
               bool reset) {
  if (reset) cursor = 0;
  json events = json::array();
  uint64_t next = std::min<uint64_t>(cursor, market.log().last_seq());
  for (const Event& e : market.log().Since(cursor, limit)) {
    events.push_back(EventJson(e));
    next = e.seq;
  }
  // The log holds only the newest events (EventLog); a cursor that fell behind them skips the
  // dropped ones, and says how many.
  const uint64_t first_seq = market.log().first_seq();
  const uint64_t missed = cursor + 1 < first_seq ? first_seq - 1 - cursor : 0;
  return {{"events", events},       {"next_cursor", next}, {"last_seq", market.log().last_seq()},
          {"first_seq", first_seq}, {"missed", missed},    {"generation", generation},
          {"reset", reset}};
}

json InstanceJson(const World& world, const Instance& i) {
  json pool = nullptr;
  if (i.pool >= 0 && static_cast<size_t>(i.pool) < world.catalog().pools().size()) {
    pool = world.catalog().pool(i.pool).id;
  }
  return {{"id", i.id},
          {"flavor", std::string(FlavorKindName(i.flavor))},
          {"type", i.type},
          {"zone", i.zone},
          {"region", i.region},
          {"pool", pool},
          {"spot", i.spot},
          {"holds_slot", i.holds_slot},
          {"state", std::string(InstanceStateName(i.state))},
          {"launch_time", FormatRfc3339(i.launch_time)},
          {"end_time", TimeOrNull(i.end_time)},
          {"name", i.name},
          {"hostname", i.hostname},
          {"private_ip", i.private_ip},
          {"mac", i.mac},
          {"image_id", i.image_id},
          {"account_id", i.account_id},
          {"cloud_state", CloudState(world, i)},
          {"cloud", CloudJson(world, i)}};
}

json MetadataJson(const MetadataView& v) {
  json events = json::array();
  for (const ScheduledEvent& e : v.scheduled_events) {
    events.push_back({{"code", e.code},
                      {"description", e.description},
                      {"event_id", e.event_id},
                      {"not_before", FormatRfc3339(e.not_before)},
                      {"not_after", TimeOrNull(e.not_after)},
                      {"not_before_deadline", TimeOrNull(e.not_before_deadline)},
                      {"state", e.state}});
  }
  json action = nullptr;
  if (v.instance_action) {
    action = {{"action", v.instance_action->action},
              {"time", FormatRfc3339(v.instance_action->time)}};
  }
  return {{"flavor", std::string(FlavorKindName(v.flavor))},
          {"state", std::string(InstanceStateName(v.state))},
          {"instance_life_cycle", v.instance_life_cycle},
          {"instance_action", action},
          {"termination_time", TimeOrNull(v.termination_time)},
          {"rebalance_notice_time", TimeOrNull(v.rebalance_notice_time)},
          {"scheduled_events", events},
          {"target_lifecycle_state",
           v.target_lifecycle_state ? json(*v.target_lifecycle_state) : json(nullptr)},
          {"spot_request_id", v.spot_request_id},
          {"vpc_id", v.vpc_id},
          {"vswitch_id", v.vswitch_id},
          {"serial_number", v.serial_number}};
}

// --- The flavors' renderings ---

json AlibabaInstanceJson(const AlibabaInstanceInfo& i) {
  json locks = json::array();
  for (const std::string& l : i.operation_locks) locks.push_back({{"LockReason", l}});
  return {{"InstanceId", i.instance_id},
          {"InstanceName", i.instance_name},
          {"RegionId", i.region_id},
          {"ZoneId", i.zone_id},
          {"InstanceType", i.instance_type},
          {"InstanceChargeType", "PostPaid"},
          {"Status", i.status},
          {"SpotStrategy", std::string(SpotStrategyName(i.strategy))},
          {"SpotPriceLimit", i.spot_price_limit},
          {"SpotDuration", i.spot_duration},
          {"SpotInterruptionBehavior",
           std::string(SpotInterruptionBehaviorName(i.interruption_behavior))},
          {"StoppedMode", i.stopped_mode},
          {"OperationLocks", {{"LockReason", locks}}},
          {"CreationTime", FormatRfc3339(i.creation_time)},
          // The simulation's extras (not in the real DescribeInstances).
          {"ProtectionEndTime", FormatRfc3339(i.protection_end)},
          {"CreationPrice", i.creation_price},
          {"TerminationTime", TimeOrNull(i.termination_time)},
          {"ReleasedTime", TimeOrNull(i.released_time)},
          {"Recycled", i.recycled}};
}

json AlibabaBillJson(const AlibabaBill& b) {
  return {{"instance", b.instance_id},
          {"flavor", "alibaba"},
          {"usd", b.raw_cost},
          {"charged", b.charged},
          {"billed_seconds", b.billed_seconds}};
}

json SpotRequestJson(const SpotRequest& r) {
  const SpotRequestSpec& s = r.spec;
  return {
      {"id", r.id},
      {"state", r.state},
      {"status", {{"code", r.status_code}, {"update_time", FormatRfc3339(r.status_update_time)}}},
      {"type", std::string(SpotRequestTypeName(s.type))},
      {"instance_type", s.instance_type},
      {"zone", s.zone},
      {"launched_zone", r.launched_zone},
      {"max_price", r.max_price},
      {"create_time", FormatRfc3339(r.create_time)},
      {"instance_id", r.instance_id.empty() ? json(nullptr) : json(r.instance_id)},
      {"valid_from", TimeOrNull(s.valid_from)},
      {"valid_until", TimeOrNull(s.valid_until)},
      {"launch_group", s.launch_group},
      {"availability_zone_group", s.availability_zone_group},
      {"block_duration_minutes", s.block_duration_minutes},
      {"actual_block_hourly_price",
       r.block_hourly_price ? json(*r.block_hourly_price) : json(nullptr)},
      {"interruption_behavior", std::string(InterruptionBehaviorName(s.interruption_behavior))},
      {"name", s.name}};
}

json AwsBillJson(const std::string& instance_id, const AwsBill& b) {
  return {{"instance", instance_id},
          {"flavor", "aws"},
          {"usd", b.usd},
          {"seconds_billed", b.seconds_billed},
          {"seconds_free", b.seconds_free},
          {"note", b.note}};
}

json AwsCloudJson(const AwsFlavor& aws, const Instance& inst) {
  if (!aws.Bill(inst.id).ok()) return nullptr;  // not launched through the AWS flavor
  json j = {{"State", {{"Name", std::string(InstanceStateName(inst.state))}}},
            {"InstanceLifecycle", inst.spot ? "spot" : "on-demand"},
            {"SpotInstanceRequestId", nullptr}};
  for (const auto& [id, r] : aws.requests()) {
    if (r.instance_id != inst.id) continue;
    j["SpotInstanceRequestId"] = id;
    j["SpotRequestState"] = r.state;
    j["SpotRequestStatus"] = r.status_code;
  }
  return j;
}

ApiResult<PriceModel> ParsePriceModel(const json& j, const std::string& where) {
  // The keys a model may carry depend on its kind, so the kind is read first.
  PriceModel m;
  std::vector<std::string> allowed = {"kind"};
  if (j.is_object() && j.contains("kind") && j["kind"].is_string()) {
    Result<PriceModelKind> k = ParsePriceModelKind(j["kind"].get<std::string>());
    if (!k.ok()) {
      return ApiError{400, "invalid_value", where + ".kind: " + k.status().message(),
                      where + ".kind"};
    }
    m.kind = *k;
    allowed = PriceModelKeys(m.kind);
  }
  JsonFields f(j, where, allowed);
  (void)f.String("kind", true);
  ReadPriceModelFields(f, where, m);
  return f.Finish(std::move(m));
}

ApiError UnknownInstance(const std::string& id, std::string field) {
  return {404, std::string(kInvalidInstanceIdNotFound), "instance \"" + id + "\" does not exist",
          std::move(field)};
}

}  // namespace lastcall::mock
