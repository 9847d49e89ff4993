// Control route of the event log: GET /v1/events pages through it after a cursor, and with
// `wait` follows it live (the request is parked in ParkedRequests until an event comes).
#include <optional>
#include <string>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// The query of GET /v1/events.
struct EventQuery {
  uint64_t cursor = 0;
  size_t limit = 100;
  Duration wait{0};
  std::optional<uint64_t> generation;
};

// Reads one query parameter into `q`; the error to answer if it is bad or unknown.
std::optional<ApiError> ReadEventParam(const ControlApiOptions& options, const std::string& key,
                                       const std::string& value, EventQuery& q) {
  if (key == "cursor") {
    std::optional<uint64_t> v = ParseUnsigned(value);
    if (!v) return QueryError(key, "must be a non-negative integer");
    q.cursor = *v;
  } else if (key == "limit") {
    std::optional<uint64_t> v = ParseUnsigned(value);
    if (!v || *v < 1 || *v > options.max_event_page) {
      return QueryError(
          key, "must be an integer in [1, " + std::to_string(options.max_event_page) + "]");
    }
    q.limit = static_cast<size_t>(*v);
  } else if (key == "wait") {
    Result<Duration> d = ParseDuration(value);
    if (!d.ok()) return QueryError(key, d.status().message());
    if (*d < Duration(0) || *d > options.max_wait) {
      return QueryError(key, "must be at most " + FormatDuration(options.max_wait));
    }
    q.wait = *d;
  } else if (key == "generation") {
    q.generation = ParseUnsigned(value);
    if (!q.generation) return QueryError(key, "must be a non-negative integer");
  } else {
    return UnknownQueryParameter(key, "expected cursor, limit, wait, generation");
  }
  return std::nullopt;
}

ApiResult<EventQuery> ParseEventQuery(const ControlApiOptions& options, const ControlRequest& req) {
  EventQuery q;
  for (const auto& [key, value] : req.query) {
    if (std::optional<ApiError> e = ReadEventParam(options, key, value, q)) return *e;
  }
  return q;
}

void Events(ControlApi& api, const ControlRequest& req, const HttpResponder& respond) {
  ApiResult<EventQuery> q = ParseEventQuery(api.options(), req);
  if (!q.ok()) return respond(ErrorResponse(q.error()));
  MarketHost& host = api.host();
  std::optional<json> page;
  const uint64_t generation = host.generation();
  host.With([&](Market& market, VirtualClock&) {
    const bool reset = q->generation && *q->generation != generation;
    if (reset || q->wait <= Duration(0) || market.log().last_seq() > q->cursor) {
      page = EventPage(market, q->cursor, q->limit, generation, reset);
    }
  });
  if (page) return respond(JsonResponse(200, *page));
  if (api.parked_requests().ParkEventWait(q->cursor, q->limit, generation,
                                          host.host_clock().Monotonic() + q->wait, respond)) {
    return;
  }
  respond(ErrorResponse({503, "too_many_waiters",
                         "more than " + std::to_string(api.options().max_waiters) +
                             " requests are already following the event log",
                         ""}));
}

}  // namespace

void RegisterEventRoutes(ControlRouter& router, ControlApi& api) {
  router.Add("GET", "/v1/events", [&api](const ControlRequest& req, const HttpResponder& respond) {
    Events(api, req, respond);
  });
}

}  // namespace lastcall::mock
