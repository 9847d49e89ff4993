#include "mockmeta/control/control_api.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include "common/time_format.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/event_log.h"
#include "mockmeta/core/virtual_clock.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

constexpr Duration kMaxModelDuration = std::chrono::hours(24 * 3650);
constexpr double kMaxPrice = 1e6;

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

long long UnixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
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

// Parses a decimal unsigned query parameter.
std::optional<uint64_t> ParseUnsigned(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

ApiError QueryError(const std::string& key, std::string message) {
  return {400, "invalid_value", key + ": " + std::move(message), key};
}

ApiError UnknownInstance(const std::string& id, std::string field = {}) {
  return {404, std::string(kInvalidInstanceIdNotFound), "instance \"" + id + "\" does not exist",
          std::move(field)};
}

std::optional<FaultRule> ParseFaultRule(const json& j, const std::string& where, ApiError& error) {
  JsonFields f(j, where, {"instance", "path", "kind", "status", "latency", "count", "probability"});
  FaultRule rule;
  std::optional<std::string> instance = f.String("instance");
  std::optional<std::string> path = f.String("path");
  std::optional<std::string> kind = f.String("kind", true);
  std::optional<int64_t> status = f.Integer("status", 400, 599);
  std::optional<Duration> latency =
      f.DurationField("latency", Duration(1), std::chrono::seconds(60));
  std::optional<int64_t> count = f.Integer("count", 1, 1'000'000'000);
  std::optional<double> probability = f.Number("probability", 0, 1);
  if (f.ok() && kind) {
    std::optional<FaultKind> k = ParseFaultKind(*kind);
    if (!k) {
      f.Fail("invalid_value", "kind",
             "\"" + *kind +
                 "\" is not one of error, latency, drop, malformed, expire-tokens, flap, "
                 "moving-notice");
    } else {
      rule.kind = *k;
    }
  }
  if (f.ok() && rule.kind == FaultKind::kLatency && !latency) {
    f.Fail("missing_field", "latency", "is required for kind latency");
  }
  if (!f.ok()) {
    error = f.error();
    return std::nullopt;
  }
  if (instance) rule.instance = *instance;
  if (path) rule.path = *path;
  if (status) rule.status = static_cast<int>(*status);
  if (latency) rule.latency = *latency;
  if (count) rule.count = static_cast<uint64_t>(*count);
  if (probability) rule.probability = *probability;
  if (Status s = ValidateFaultRule(rule); !s.ok()) {
    // "fault.path: ..." names the field: report it as <where>.path.
    std::string field = where;
    const std::string& m = s.message();
    if (const size_t colon = m.find(':'); m.rfind("fault.", 0) == 0 && colon != m.npos) {
      field = (where.empty() ? "" : where + ".") + m.substr(6, colon - 6);
    }
    error = {400, "invalid_value", m, field};
    return std::nullopt;
  }
  return rule;
}

json FaultJson(const FaultTable::Entry& e) {
  json j = {{"id", e.id},
            {"instance", e.rule.instance},
            {"path", e.rule.path},
            {"kind", std::string(FaultKindName(e.rule.kind))},
            {"probability", e.rule.probability},
            {"fired", e.fired},
            {"matched", e.matched}};
  if (e.rule.kind == FaultKind::kErrorStatus) j["status"] = e.rule.status;
  if (e.rule.kind == FaultKind::kLatency) j["latency"] = FormatDuration(e.rule.latency);
  j["count"] = e.rule.count ? json(*e.rule.count) : json(nullptr);
  return j;
}

}  // namespace

// --- JSON renderings -----------------------------------------------------------------------

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

namespace {

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

}  // namespace

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

std::optional<PriceModel> ParsePriceModel(const json& j, const std::string& where,
                                          ApiError& error) {
  // The keys a model may carry depend on its kind, so the kind is read first.
  std::vector<std::string> allowed = {"kind"};
  PriceModel m;
  if (j.is_object() && j.contains("kind") && j["kind"].is_string()) {
    Result<PriceModelKind> k = ParsePriceModelKind(j["kind"].get<std::string>());
    if (!k.ok()) {
      error = {400, "invalid_value", where + ".kind: " + k.status().message(), where + ".kind"};
      return std::nullopt;
    }
    m.kind = *k;
    switch (m.kind) {
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
  }
  JsonFields f(j, where, allowed);
  (void)f.String("kind", true);
  if (m.kind == PriceModelKind::kTrace) {
    if (const json* steps = f.Array("steps", true)) {
      for (size_t i = 0; i < steps->size() && f.ok(); ++i) {
        JsonFields s((*steps)[i], where + ".steps[" + std::to_string(i) + "]", {"at", "price"});
        std::optional<Duration> at = s.DurationField("at", Duration(0), kMaxModelDuration, true);
        std::optional<double> price = s.Number("price", 0, kMaxPrice, true);
        if (!s.ok()) {
          error = s.error();
          return std::nullopt;
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
  if (!f.ok()) {
    error = f.error();
    return std::nullopt;
  }
  return m;
}

// --- ControlApi ----------------------------------------------------------------------------

ControlApi::ControlApi(MarketHost& host, MarketDirectory& directory, TokenStore& tokens,
                       FaultTable& faults, ControlApiOptions options)
    : host_(host),
      directory_(directory),
      tokens_(tokens),
      faults_(faults),
      options_(std::move(options)) {
  RegisterBaseRoutes();
  RegisterAlibabaRoutes(router_, *this);
  RegisterAwsRoutes(router_, *this);
  RegisterInstanceSettingsRoutes(router_, *this);
}

void ControlApi::Handle(const HttpRequest& request, const RequestContext& /*context*/,
                        const HttpResponder& respond) {
  router_.Dispatch(request, respond);
}

AsyncHttpHandler ControlApi::AsHandler() {
  return [this](const HttpRequest& request, const RequestContext& context,
                const HttpResponder& respond) { Handle(request, context, respond); };
}

void ControlApi::SetTokensRequired(const std::string& instance_id, bool required) {
  directory_.SetTokensRequired(instance_id, required);
}

size_t ControlApi::parked() const {
  std::lock_guard<std::mutex> lock(waiters_mu_);
  return waiters_.size() + advancers_.size();
}

void ControlApi::CancelWaiters() {
  std::vector<Waiter> waiters;
  std::vector<Advancer> advancers;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    waiters.swap(waiters_);
    advancers.swap(advancers_);
  }
  for (Advancer& a : advancers) {
    a.respond(ErrorResponse({503, "shutting_down", "mockmeta is shutting down", ""}));
  }
  for (Waiter& w : waiters) {
    w.respond(ErrorResponse({503, "shutting_down", "mockmeta is shutting down", ""}));
  }
}

namespace {

// One page of the log after `cursor`; a cursor from another generation (the scenario was
// replaced) starts over at 0 and says so.
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

}  // namespace

void ControlApi::AdvanceClock(const ControlRequest& req, const HttpResponder& respond) {
  ApiError err;
  std::optional<json> body = req.JsonBody(err);
  if (!body) return respond(ErrorResponse(err));
  JsonFields f(*body, "", {"by", "to"});
  std::optional<Duration> by = f.DurationField("by", Duration(0), options_.max_advance);
  std::optional<WallTime> to = f.Time("to");
  if (f.ok() && by.has_value() == to.has_value()) {
    f.Fail("invalid_value", by ? "to" : "by", "give exactly one of \"by\" and \"to\"");
  }
  if (!f.ok()) return respond(ErrorResponse(f.error()));
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    if (advancers_.size() >= options_.max_waiters) {
      return respond(ErrorResponse({503, "too_many_waiters",
                                    "more than " + std::to_string(options_.max_waiters) +
                                        " clock advances are still being caught up; retry later",
                                    ""}));
    }
  }
  std::optional<HttpResponse> answer;
  host_.With([&](Market& market, VirtualClock& clock) {
    const uint64_t first = market.log().last_seq() + 1;
    if (to) {
      if (*to < clock.Now()) {
        answer = ErrorResponse({400, "out_of_range",
                                "to: " + FormatRfc3339(*to) + " is before now (" +
                                    FormatRfc3339(clock.Now()) + "); time only moves forward",
                                "to"});
        return;
      }
      if (*to - clock.Now() > options_.max_advance) {
        answer = ErrorResponse(
            {400, "out_of_range",
             "to: more than " + FormatDuration(options_.max_advance) + " ahead of now", "to"});
        return;
      }
      if (Status s = clock.SetTo(*to); !s.ok()) {
        answer = ErrorResponse(ErrorFromStatus(s, "to"));
        return;
      }
    } else if (Status s = clock.Advance(*by); !s.ok()) {
      answer = ErrorResponse(ErrorFromStatus(s, "by"));
      return;
    }
    const WallTime target = clock.Now();
    if (Status s = market.AdvanceTo(target, MarketHost::kAdvanceSlice); !s.ok()) {
      answer = ErrorResponse(ErrorFromStatus(s));
      return;
    }
    if (market.now() >= target) {
      json j = ClockJson(market, clock, host_.generation());
      j["events"] = {{"first", first}, {"last", market.log().last_seq()}};
      answer = JsonResponse(200, j);
      return;
    }
    // Too much for one slice: the ticker catches up and Tick() answers.
    std::lock_guard<std::mutex> lock(waiters_mu_);
    advancers_.push_back(Advancer{target, first, host_.generation(), respond});
  });
  if (answer) {
    Tick();
    respond(std::move(*answer));
  }
}

void ControlApi::TickAdvancers() {
  std::vector<Advancer> advancers;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    if (advancers_.empty()) return;
    advancers.swap(advancers_);
  }
  std::vector<std::pair<HttpResponder, HttpResponse>> answers;
  std::vector<Advancer> still;
  const Status engine = host_.last_error();
  host_.With([&](Market& market, VirtualClock& clock) {
    const uint64_t generation = host_.generation();
    for (Advancer& a : advancers) {
      if (a.generation != generation) {
        answers.emplace_back(std::move(a.respond),
                             ErrorResponse({409, "scenario_replaced",
                                            "a scenario was loaded while the clock advanced; "
                                            "the new scenario's clock is not moved",
                                            ""}));
      } else if (market.now() >= a.target) {
        json j = ClockJson(market, clock, generation);
        j["events"] = {{"first", a.first_seq}, {"last", market.log().last_seq()}};
        answers.emplace_back(std::move(a.respond), JsonResponse(200, j));
      } else if (!engine.ok()) {
        answers.emplace_back(std::move(a.respond), ErrorResponse(ErrorFromStatus(engine)));
      } else {
        still.push_back(std::move(a));
      }
    }
  });
  if (!still.empty()) {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    for (Advancer& a : still) advancers_.push_back(std::move(a));
  }
  for (auto& [respond, response] : answers) respond(std::move(response));
}

void ControlApi::Tick() {
  TickAdvancers();
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    if (waiters_.empty()) return;
    waiters.swap(waiters_);
  }
  const MonoTime mono = host_.host_clock().Monotonic();
  std::vector<std::pair<HttpResponder, json>> answers;
  std::vector<Waiter> still;
  host_.With([&](Market& market, VirtualClock&) {
    const uint64_t generation = host_.generation();
    for (Waiter& w : waiters) {
      const bool reset = w.generation != generation;
      if (reset || market.log().last_seq() > w.cursor || mono >= w.deadline) {
        answers.emplace_back(std::move(w.respond),
                             EventPage(market, w.cursor, w.limit, generation, reset));
      } else {
        still.push_back(std::move(w));
      }
    }
  });
  if (!still.empty()) {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    for (Waiter& w : still) waiters_.push_back(std::move(w));
  }
  for (auto& [respond, body] : answers) respond(JsonResponse(200, body));
}

void ControlApi::Events(const ControlRequest& req, const HttpResponder& respond) {
  uint64_t cursor = 0;
  size_t limit = 100;
  Duration wait{0};
  std::optional<uint64_t> want_generation;
  for (const auto& [key, value] : req.query) {
    if (key == "cursor") {
      auto v = ParseUnsigned(value);
      if (!v) return respond(ErrorResponse(QueryError(key, "must be a non-negative integer")));
      cursor = *v;
    } else if (key == "limit") {
      auto v = ParseUnsigned(value);
      if (!v || *v < 1 || *v > options_.max_event_page) {
        return respond(ErrorResponse(QueryError(
            key, "must be an integer in [1, " + std::to_string(options_.max_event_page) + "]")));
      }
      limit = static_cast<size_t>(*v);
    } else if (key == "wait") {
      Result<Duration> d = ParseDuration(value);
      if (!d.ok()) return respond(ErrorResponse(QueryError(key, d.status().message())));
      if (*d < Duration(0) || *d > options_.max_wait) {
        return respond(
            ErrorResponse(QueryError(key, "must be at most " + FormatDuration(options_.max_wait))));
      }
      wait = *d;
    } else if (key == "generation") {
      want_generation = ParseUnsigned(value);
      if (!want_generation) {
        return respond(ErrorResponse(QueryError(key, "must be a non-negative integer")));
      }
    } else {
      return respond(
          ErrorResponse({400, "unknown_field",
                         key + ": unknown query parameter (expected cursor, limit, wait, "
                               "generation)",
                         key}));
    }
  }
  std::optional<json> page;
  const uint64_t generation = host_.generation();
  host_.With([&](Market& market, VirtualClock&) {
    const bool reset = want_generation && *want_generation != generation;
    if (reset || wait <= Duration(0) || market.log().last_seq() > cursor) {
      page = EventPage(market, cursor, limit, generation, reset);
    }
  });
  if (page) return respond(JsonResponse(200, *page));
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    if (waiters_.size() < options_.max_waiters) {
      waiters_.push_back(
          Waiter{cursor, limit, generation, host_.host_clock().Monotonic() + wait, respond});
      return;
    }
  }
  respond(ErrorResponse({503, "too_many_waiters",
                         "more than " + std::to_string(options_.max_waiters) +
                             " requests are already following the event log",
                         ""}));
}

void ControlApi::RegisterBaseRoutes() {
  ControlRouter& r = router_;

  r.AddSync("GET", "/v1/health", [this](const ControlRequest&) {
    json body;
    Status engine = host_.last_error();
    host_.With([&](Market& market, VirtualClock& clock) {
      body = {{"status", "ok"},
              {"version", options_.version},
              {"now", FormatRfc3339(clock.Now())},
              {"generation", host_.generation()},
              {"last_seq", market.log().last_seq()},
              {"instances", market.instances().size()},
              {"pools", market.catalog().pools().size()}};
    });
    if (!engine.ok()) body["engine_error"] = engine.ToString();
    return JsonResponse(200, body);
  });

  r.AddSync("GET", "/v1/routes", [this](const ControlRequest&) {
    return JsonResponse(200, {{"routes", router_.Routes()}});
  });

  // --- clock ---
  r.AddSync("GET", "/v1/clock", [this](const ControlRequest&) {
    return host_.With([&](Market& market, VirtualClock& clock) {
      return JsonResponse(200, ClockJson(market, clock, host_.generation()));
    });
  });

  r.Add("POST", "/v1/clock/advance",
        [this](const ControlRequest& req, const HttpResponder& respond) {
          AdvanceClock(req, respond);
        });

  r.AddSync("POST", "/v1/clock/speed", [this](const ControlRequest& req) {
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    JsonFields f(*body, "", {"mode", "speed"});
    std::optional<std::string> mode = f.String("mode", true);
    std::optional<double> speed = f.Number("speed", 0, VirtualClock::kMaxSpeed);
    if (f.ok()) {
      if (*mode == "speed") {
        if (!speed)
          f.Fail("missing_field", "speed", "is required when mode is \"speed\"");
        else if (*speed < VirtualClock::kMinSpeed)
          f.Fail("out_of_range", "speed",
                 "must be at least 0.001 (slower stands still in every time sum)");
      } else if (*mode == "realtime" || *mode == "manual") {
        if (speed) f.Fail("unknown_field", "speed", "only allowed when mode is \"speed\"");
      } else {
        f.Fail("invalid_value", "mode", "\"" + *mode + "\" is not one of realtime, speed, manual");
      }
    }
    if (!f.ok()) return ErrorResponse(f.error());
    return host_.With([&](Market& market, VirtualClock& clock) {
      Status s;
      if (*mode == "manual") {
        clock.SetManual();
      } else {
        s = clock.SetSpeed(*mode == "realtime" ? 1.0 : *speed);
      }
      if (!s.ok()) return ErrorResponse(ErrorFromStatus(s, "speed"));
      return JsonResponse(200, ClockJson(market, clock, host_.generation()));
    });
  });

  // --- pools ---
  r.AddSync("GET", "/v1/pools", [this](const ControlRequest&) {
    return host_.With([&](Market& market, VirtualClock&) {
      json pools = json::array();
      for (const Pool& p : market.catalog().pools()) pools.push_back(PoolJson(p));
      return JsonResponse(200, {{"pools", pools}});
    });
  });

  auto unknown_pool = [](const std::string& id) {
    return ErrorResponse({404, std::string(kInvalidPoolNotFound),
                          "pool \"" + id + "\" does not exist (ids are \"<type>@<zone>\")", ""});
  };

  r.AddSync("GET", "/v1/pools/{id}", [this, unknown_pool](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return host_.With([&](Market& market, VirtualClock&) {
      const Pool* p = market.catalog().FindPool(id);
      if (!p) return unknown_pool(id);
      return JsonResponse(200, PoolJson(*p));
    });
  });

  r.AddSync("PATCH", "/v1/pools/{id}", [this, unknown_pool](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    JsonFields f(*body, "", {"price", "capacity", "model"});
    std::optional<double> price = f.Number("price", 0, kMaxPrice);
    std::optional<int64_t> capacity = f.Integer("capacity", 0, 1'000'000'000);
    std::optional<PriceModel> model;
    if (const json* m = f.Object("model")) {
      model = ParsePriceModel(*m, "model", err);
      if (!model) return ErrorResponse(err);
    }
    if (f.ok() && !price && !capacity && !model) {
      f.Fail("missing_field", "price", "give at least one of price, capacity, model");
    }
    if (!f.ok()) return ErrorResponse(f.error());
    HttpResponse out = host_.With([&](Market& market, VirtualClock&) {
      const Pool* p = market.catalog().FindPool(id);
      if (!p) return unknown_pool(id);
      // Validate everything against this pool before changing anything.
      if (price && *price > p->on_demand_price) {
        return ErrorResponse({400, std::string(kInvalidParameterValue),
                              "price: " + FormatPrice(*price) + " is above the on-demand price " +
                                  FormatPrice(p->on_demand_price) + " of " + id,
                              "price"});
      }
      if (model) {
        if (Status s = ValidatePriceModel(*model, p->on_demand_price); !s.ok()) {
          return ErrorResponse(
              {400, std::string(kInvalidParameterValue), "model: " + s.message(), "model"});
        }
      }
      // The model first, so an explicit price is the one in effect until its first step.
      Status s;
      if (model) s = market.SetPriceModel(id, *model, cause::kUser);
      if (s.ok() && price) s = market.SetSpotPrice(id, *price, cause::kUser, "control API");
      if (s.ok() && capacity) {
        s = market.SetCapacity(id, static_cast<int>(*capacity), cause::kUser, "control API");
      }
      if (!s.ok()) return ErrorResponse(ErrorFromStatus(s));
      return JsonResponse(200, PoolJson(*market.catalog().FindPool(id)));
    });
    Tick();
    return out;
  });

  r.AddSync("GET", "/v1/pools/{id}/price-history", [this, unknown_pool](const ControlRequest& req) {
    std::optional<WallTime> since, until;
    for (const auto& [key, value] : req.query) {
      if (key != "since" && key != "until") {
        return ErrorResponse(
            {400, "unknown_field", key + ": unknown query parameter (expected since, until)", key});
      }
      Result<WallTime> t = ParseVirtualTime(value);
      if (!t.ok()) return ErrorResponse(QueryError(key, t.status().message()));
      (key == "since" ? since : until) = *t;
    }
    const std::string& id = req.Param("id");
    return host_.With([&](Market& market, VirtualClock&) {
      const Pool* p = market.catalog().FindPool(id);
      if (!p) return unknown_pool(id);
      const WallTime from = since.value_or(market.start());
      const WallTime to = until.value_or(market.now());
      if (to < from) {
        return ErrorResponse({400, "out_of_range", "until: is before since", "until"});
      }
      json points = json::array();
      for (const PricePoint& pt : p->history) {
        if (pt.time < from || pt.time > to) continue;
        points.push_back({{"time", FormatRfc3339(pt.time)}, {"price", pt.price}});
      }
      return JsonResponse(200, {{"pool", id},
                                {"since", FormatRfc3339(from)},
                                {"until", FormatRfc3339(to)},
                                {"price_at_since", p->PriceAt(from)},
                                {"prices", points}});
    });
  });

  // --- instances ---
  r.AddSync("GET", "/v1/instances", [this](const ControlRequest&) {
    return host_.WithWorld([&](World& world, VirtualClock&) {
      json list = json::array();
      for (const auto& [id, inst] : world.instances()) {
        list.push_back(InstanceJson(world, inst));
      }
      return JsonResponse(200, {{"instances", list}});
    });
  });

  r.AddSync("GET", "/v1/instances/{id}", [this](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    const bool tokens_required = directory_.TokensRequired(id);
    return host_.WithWorld([&](World& world, VirtualClock&) {
      Market& market = world;
      const Instance* inst = market.FindInstance(id);
      if (!inst) return ErrorResponse(UnknownInstance(id));
      json j = InstanceJson(world, *inst);
      Result<MetadataView> view = market.Metadata(id);
      j["metadata"] = view.ok() ? MetadataJson(*view) : json(nullptr);
      j["http_tokens"] = tokens_required ? "required" : "optional";
      return JsonResponse(200, j);
    });
  });

  // A flavor-neutral launch: an instance record with identity, no flavor rules (no bid, no
  // spot request). For tests of IMDS plumbing; the flavors' own launch calls live in
  // control_alibaba.cc / control_aws.cc.
  r.AddSync("POST", "/v1/instances", [this](const ControlRequest& req) {
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    JsonFields f(*body, "", {"flavor", "type", "zone", "spot", "name", "http_tokens"});
    std::optional<std::string> flavor = f.String("flavor", true);
    std::optional<std::string> type = f.String("type", true);
    std::optional<std::string> zone = f.String("zone", true);
    std::optional<bool> spot = f.Bool("spot");
    std::optional<std::string> name = f.String("name");
    std::optional<std::string> tokens = f.String("http_tokens");
    if (f.ok() && *flavor != "aws" && *flavor != "alibaba") {
      f.Fail("invalid_value", "flavor", "\"" + *flavor + "\" is not one of aws, alibaba");
    }
    if (f.ok() && tokens && *tokens != "required" && *tokens != "optional") {
      f.Fail("invalid_value", "http_tokens", "must be \"required\" or \"optional\"");
    }
    if (!f.ok()) return ErrorResponse(f.error());
    Instance inst;
    inst.flavor = *flavor == "aws" ? FlavorKind::kAws : FlavorKind::kAlibaba;
    inst.type = *type;
    inst.zone = *zone;
    inst.spot = spot.value_or(false);
    inst.name = name.value_or("");
    inst.state = InstanceState::kRunning;
    std::string id;
    HttpResponse out = host_.WithWorld([&](World& world, VirtualClock&) {
      Result<Instance*> added =
          world.AddInstance(inst, inst.spot, cause::kUser, "control API generic launch");
      if (!added.ok()) return ErrorResponse(ErrorFromStatus(added.status()));
      id = (*added)->id;
      return JsonResponse(201, InstanceJson(world, **added));
    });
    if (!id.empty() && tokens) directory_.SetTokensRequired(id, *tokens == "required");
    Tick();
    return out;
  });

  r.AddSync("PATCH", "/v1/instances/{id}", [this](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    JsonFields f(*body, "", {"http_tokens"});
    std::optional<std::string> tokens = f.String("http_tokens", true);
    if (f.ok() && *tokens != "required" && *tokens != "optional") {
      f.Fail("invalid_value", "http_tokens", "must be \"required\" or \"optional\"");
    }
    if (!f.ok()) return ErrorResponse(f.error());
    const bool exists = host_.With(
        [&](Market& market, VirtualClock&) { return market.FindInstance(id) != nullptr; });
    if (!exists) return ErrorResponse(UnknownInstance(id));
    directory_.SetTokensRequired(id, *tokens == "required");
    return JsonResponse(200, {{"id", id}, {"http_tokens", *tokens}});
  });

  r.AddSync("POST", "/v1/instances/{id}/tokens/expire", [this](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    const bool exists = host_.With(
        [&](Market& market, VirtualClock&) { return market.FindInstance(id) != nullptr; });
    if (!exists) return ErrorResponse(UnknownInstance(id));
    const size_t n = tokens_.ExpireAll(id);
    return JsonResponse(200, {{"instance", id}, {"expired", n}});
  });

  // --- billing (both flavors) ---
  // One instance's bill: the flavor's own figures, or a zero line for a flavor-neutral launch
  // (no flavor rules, nothing charged).
  auto bill_json = [](const World& world, const Instance& inst) {
    if (inst.flavor == FlavorKind::kAlibaba) {
      Result<AlibabaBill> b = world.alibaba().Bill(inst.id);
      if (b.ok()) return AlibabaBillJson(*b);
    } else {
      Result<AwsBill> b = world.aws().Bill(inst.id);
      if (b.ok()) return AwsBillJson(inst.id, *b);
    }
    return json{{"instance", inst.id},
                {"flavor", std::string(FlavorKindName(inst.flavor))},
                {"usd", 0.0},
                {"note", "flavor-neutral launch (POST /v1/instances): not billed"}};
  };

  r.AddSync("GET", "/v1/billing", [this, bill_json](const ControlRequest& req) {
    if (!req.query.empty()) {
      const std::string& key = req.query.begin()->first;
      return ErrorResponse(
          {400, "unknown_field", key + ": unknown query parameter (none taken)", key});
    }
    return host_.WithWorld([&](World& world, VirtualClock& clock) {
      json list = json::array();
      for (const auto& [id, inst] : world.instances()) {
        list.push_back(bill_json(world, inst));
      }
      const double ali_total = world.alibaba().AccountCharged();
      const double aws_total = world.aws().AccountBill();
      return JsonResponse(200, {{"now", FormatRfc3339(clock.Now())},
                                {"account_id", world.account_id()},
                                {"instances", list},
                                {"alibaba", {{"charged", ali_total}}},
                                {"aws", {{"usd", aws_total}}},
                                {"total_usd", ali_total + aws_total}});
    });
  });

  r.AddSync("GET", "/v1/instances/{id}/billing", [this, bill_json](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return host_.WithWorld([&](World& world, VirtualClock&) {
      const Instance* inst = world.FindInstance(id);
      if (!inst) return ErrorResponse(UnknownInstance(id));
      return JsonResponse(200, bill_json(world, *inst));
    });
  });

  // --- events ---
  r.Add("GET", "/v1/events",
        [this](const ControlRequest& req, const HttpResponder& respond) { Events(req, respond); });

  // --- scenario ---
  r.AddSync("POST", "/v1/scenario", [this](const ControlRequest& req) {
    const std::string* ctype = req.http.Header("Content-Type");
    // JSON ({"path":...}) by content type, or by its first character: a TOML document cannot
    // start with '{', and curl -d sends a form content type.
    const size_t first = req.http.body.find_first_not_of(" \t\r\n");
    const bool is_json = (ctype && ctype->find("application/json") != std::string::npos) ||
                         (first != std::string::npos && req.http.body[first] == '{');
    Result<std::unique_ptr<World>> loaded = Internal("unreachable");
    std::string source;
    if (is_json) {
      ApiError err;
      std::optional<json> body = req.JsonBody(err);
      if (!body) return ErrorResponse(err);
      JsonFields f(*body, "", {"path"});
      std::optional<std::string> path = f.String("path", true);
      if (!f.ok()) return ErrorResponse(f.error());
      source = *path;
      loaded = LoadScenarioFile(*path, options_.scenario);
    } else {
      if (req.http.body.size() > kMaxScenarioBody) {
        return ErrorResponse({413, "payload_too_large",
                              "scenario is " + std::to_string(req.http.body.size()) +
                                  " bytes; the limit is " + std::to_string(kMaxScenarioBody),
                              ""});
      }
      if (req.http.body.find_first_not_of(" \t\r\n") == std::string::npos) {
        return ErrorResponse({400, "invalid_scenario",
                              "empty body: send the scenario TOML, or JSON {\"path\":...} with "
                              "Content-Type: application/json",
                              ""});
      }
      source = "<control-api>";
      loaded = LoadScenarioText(req.http.body, source, options_.scenario);
    }
    if (!loaded.ok()) {
      ApiError e = ErrorFromStatus(loaded.status(), is_json ? "path" : "");
      e.status = 400;
      e.code = "invalid_scenario";
      e.message = loaded.status().message() + " (the running scenario is unchanged)";
      return ErrorResponse(e);
    }
    const uint64_t generation = host_.Replace(std::move(loaded).value());
    json j = host_.With([&](Market& market, VirtualClock& clock) {
      return json{{"source", source},
                  {"generation", generation},
                  {"start", FormatRfc3339(market.start())},
                  {"now", FormatRfc3339(clock.Now())},
                  {"pools", market.catalog().pools().size()},
                  {"instances", market.instances().size()}};
    });
    Tick();
    return JsonResponse(200, j);
  });

  // --- faults ---
  r.AddSync("GET", "/v1/faults", [this](const ControlRequest&) {
    json list = json::array();
    for (const FaultTable::Entry& e : faults_.List()) list.push_back(FaultJson(e));
    return JsonResponse(200, {{"faults", list}});
  });

  // Checks that a rule's instance exists ("*" always does).
  auto check_instance = [this](const FaultRule& rule, const std::string& field, ApiError& err) {
    if (rule.instance == "*") return true;
    const bool exists = host_.With([&](Market& market, VirtualClock&) {
      return market.FindInstance(rule.instance) != nullptr;
    });
    if (!exists) err = UnknownInstance(rule.instance, field);
    return exists;
  };

  r.AddSync("POST", "/v1/faults", [this, check_instance](const ControlRequest& req) {
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    std::optional<FaultRule> rule = ParseFaultRule(*body, "", err);
    if (!rule) return ErrorResponse(err);
    if (!check_instance(*rule, "instance", err)) return ErrorResponse(err);
    Result<FaultTable::Id> id = faults_.Add(*rule);
    if (!id.ok()) return ErrorResponse(ErrorFromStatus(id.status()));
    for (const FaultTable::Entry& e : faults_.List()) {
      if (e.id == *id) return JsonResponse(201, FaultJson(e));
    }
    return JsonResponse(201, {{"id", *id}});
  });

  // Replaces the whole table: all rules valid, or nothing changes.
  r.AddSync("PUT", "/v1/faults", [this, check_instance](const ControlRequest& req) {
    ApiError err;
    std::optional<json> body = req.JsonBody(err);
    if (!body) return ErrorResponse(err);
    JsonFields f(*body, "", {"faults"});
    const json* list = f.Array("faults", true);
    if (!f.ok()) return ErrorResponse(f.error());
    if (list->size() > kMaxFaultRules) {
      return ErrorResponse({400, "out_of_range",
                            "faults: " + std::to_string(list->size()) + " rules; the limit is " +
                                std::to_string(kMaxFaultRules),
                            "faults"});
    }
    std::vector<FaultRule> rules;
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string where = "faults[" + std::to_string(i) + "]";
      std::optional<FaultRule> rule = ParseFaultRule((*list)[i], where, err);
      if (!rule) return ErrorResponse(err);
      if (!check_instance(*rule, where + ".instance", err)) return ErrorResponse(err);
      rules.push_back(std::move(*rule));
    }
    faults_.Clear();
    for (const FaultRule& rule : rules) (void)faults_.Add(rule);  // validated above
    json out = json::array();
    for (const FaultTable::Entry& e : faults_.List()) out.push_back(FaultJson(e));
    return JsonResponse(200, {{"faults", out}});
  });

  r.AddSync("DELETE", "/v1/faults", [this](const ControlRequest& req) {
    for (const auto& [key, value] : req.query) {
      if (key != "instance") {
        return ErrorResponse(
            {400, "unknown_field", key + ": unknown query parameter (expected instance)", key});
      }
    }
    auto it = req.query.find("instance");
    if (it != req.query.end() && it->second != "*") {
      const size_t n = faults_.RemoveForInstance(it->second);
      return JsonResponse(200, {{"removed", n}});
    }
    const size_t n = faults_.List().size();
    faults_.Clear();
    return JsonResponse(200, {{"removed", n}});
  });

  r.AddSync("DELETE", "/v1/faults/{id}", [this](const ControlRequest& req) {
    const std::string& raw = req.Param("id");
    std::optional<uint64_t> id = ParseUnsigned(raw);
    if (!id || !faults_.Remove(*id)) {
      return ErrorResponse({404, "not_found", "fault " + raw + " does not exist", ""});
    }
    return JsonResponse(200, {{"removed", 1}});
  });
}

}  // namespace lastcall::mock
