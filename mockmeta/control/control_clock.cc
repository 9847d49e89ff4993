// Control routes of the virtual clock: read it, advance it (by a duration or to a time; a long
// advance is parked until the market caught up, see ParkedRequests), and set its mode and speed.
#include <optional>
#include <string>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// A clock advance's body: exactly one of a duration and a target time.
struct AdvanceRequest {
  std::optional<Duration> by;
  std::optional<WallTime> to;
};

ApiResult<AdvanceRequest> ParseAdvance(const ControlRequest& req, Duration max_advance) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "", {"by", "to"});
  AdvanceRequest a;
  a.by = f.DurationField("by", Duration(0), max_advance);
  a.to = f.Time("to");
  if (f.ok() && a.by.has_value() == a.to.has_value()) {
    f.Fail("invalid_value", a.by ? "to" : "by", "give exactly one of \"by\" and \"to\"");
  }
  return f.Finish(a);
}

// Moves the clock as `a` says (under the host's lock); an error answer, or nullopt when moved.
std::optional<HttpResponse> MoveClock(VirtualClock& clock, const AdvanceRequest& a,
                                      Duration max_advance) {
  if (!a.to) {
    if (Status s = clock.Advance(*a.by); !s.ok()) return ErrorResponse(ErrorFromStatus(s, "by"));
    return std::nullopt;
  }
  if (*a.to < clock.Now()) {
    return ErrorResponse({400, "out_of_range",
                          "to: " + FormatRfc3339(*a.to) + " is before now (" +
                              FormatRfc3339(clock.Now()) + "); time only moves forward",
                          "to"});
  }
  if (*a.to - clock.Now() > max_advance) {
    return ErrorResponse({400, "out_of_range",
                          "to: more than " + FormatDuration(max_advance) + " ahead of now", "to"});
  }
  if (Status s = clock.SetTo(*a.to); !s.ok()) return ErrorResponse(ErrorFromStatus(s, "to"));
  return std::nullopt;
}

// POST /v1/clock/advance: one slice of market work in the request; the rest is caught up by the
// ticker and the request answered by Tick().
void AdvanceClock(ControlApi& api, const ControlRequest& req, const HttpResponder& respond) {
  const ControlApiOptions& options = api.options();
  ApiResult<AdvanceRequest> a = ParseAdvance(req, options.max_advance);
  if (!a.ok()) return respond(ErrorResponse(a.error()));
  if (api.parked_requests().AdvancesFull()) {
    return respond(ErrorResponse({503, "too_many_waiters",
                                  "more than " + std::to_string(options.max_waiters) +
                                      " clock advances are still being caught up; retry later",
                                  ""}));
  }
  MarketHost& host = api.host();
  std::optional<HttpResponse> answer;
  host.With([&](Market& market, VirtualClock& clock) {
    const uint64_t first = market.log().last_seq() + 1;
    answer = MoveClock(clock, *a, options.max_advance);
    if (answer) return;
    const WallTime target = clock.Now();
    if (Status s = market.AdvanceTo(target, MarketHost::kAdvanceSlice); !s.ok()) {
      answer = ErrorResponse(ErrorFromStatus(s));
      return;
    }
    if (market.now() >= target) {
      json j = ClockJson(market, clock, host.generation());
      j["events"] = {{"first", first}, {"last", market.log().last_seq()}};
      answer = JsonResponse(200, j);
      return;
    }
    // Too much for one slice: the ticker catches up and Tick() answers.
    api.parked_requests().ParkAdvance(target, first, host.generation(), respond);
  });
  if (answer) {
    api.Tick();
    respond(std::move(*answer));
  }
}

// {"mode":"realtime"|"manual"} or {"mode":"speed","speed":N}.
struct SpeedRequest {
  std::string mode;
  std::optional<double> speed;
};

ApiResult<SpeedRequest> ParseSpeed(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
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
  if (!f.ok()) return f.error();
  return SpeedRequest{*mode, speed};
}

HttpResponse SetSpeed(ControlApi& api, const ControlRequest& req) {
  ApiResult<SpeedRequest> r = ParseSpeed(req);
  if (!r.ok()) return ErrorResponse(r.error());
  return api.host().With([&](Market& market, VirtualClock& clock) {
    Status s;
    if (r->mode == "manual") {
      clock.SetManual();
    } else {
      s = clock.SetSpeed(r->mode == "realtime" ? 1.0 : *r->speed);
    }
    if (!s.ok()) return ErrorResponse(ErrorFromStatus(s, "speed"));
    return JsonResponse(200, ClockJson(market, clock, api.host().generation()));
  });
}

}  // namespace

void RegisterClockRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/clock", [&api](const ControlRequest&) {
    return api.host().With([&](Market& market, VirtualClock& clock) {
      return JsonResponse(200, ClockJson(market, clock, api.host().generation()));
    });
  });
  router.Add("POST", "/v1/clock/advance",
             [&api](const ControlRequest& req, const HttpResponder& respond) {
               AdvanceClock(api, req, respond);
             });
  router.AddSync("POST", "/v1/clock/speed",
                 [&api](const ControlRequest& req) { return SetSpeed(api, req); });
}

}  // namespace lastcall::mock
