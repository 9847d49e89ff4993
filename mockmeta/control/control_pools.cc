// Control routes of the pools: list and read them, change a pool's price, capacity and price
// model (all or nothing), and its price history.
#include <optional>
#include <string>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

HttpResponse UnknownPool(const std::string& id) {
  return ErrorResponse({404, std::string(kInvalidPoolNotFound),
                        "pool \"" + id + "\" does not exist (ids are \"<type>@<zone>\")", ""});
}

// PATCH /v1/pools/{id}: any of price, capacity, model.
struct PoolChange {
  std::optional<double> price;
  std::optional<int64_t> capacity;
  std::optional<PriceModel> model;
};

ApiResult<PoolChange> ParsePoolChange(const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "", {"price", "capacity", "model"});
  PoolChange c;
  c.price = f.Number("price", 0, kMaxPrice);
  c.capacity = f.Integer("capacity", 0, 1'000'000'000);
  if (const json* m = f.Object("model")) {
    ApiResult<PriceModel> model = ParsePriceModel(*m, "model");
    if (!model.ok()) return model.error();
    c.model = std::move(model).value();
  }
  if (f.ok() && !c.price && !c.capacity && !c.model) {
    f.Fail("missing_field", "price", "give at least one of price, capacity, model");
  }
  return f.Finish(std::move(c));
}

// Validates `c` against pool `id` and applies it, under the host's lock.
HttpResponse ApplyPoolChange(Market& market, const std::string& id, const PoolChange& c) {
  const Pool* p = market.catalog().FindPool(id);
  if (!p) return UnknownPool(id);
  // Validate everything against this pool before changing anything.
  if (c.price && *c.price > p->on_demand_price) {
    return ErrorResponse({400, std::string(kInvalidParameterValue),
                          "price: " + FormatPrice(*c.price) + " is above the on-demand price " +
                              FormatPrice(p->on_demand_price) + " of " + id,
                          "price"});
  }
  if (c.model) {
    if (Status s = ValidatePriceModel(*c.model, p->on_demand_price); !s.ok()) {
      return ErrorResponse(
          {400, std::string(kInvalidParameterValue), "model: " + s.message(), "model"});
    }
  }
  // The model first, so an explicit price is the one in effect until its first step.
  Status s;
  if (c.model) s = market.SetPriceModel(id, *c.model, cause::kUser);
  if (s.ok() && c.price) s = market.SetSpotPrice(id, *c.price, cause::kUser, "control API");
  if (s.ok() && c.capacity) {
    s = market.SetCapacity(id, static_cast<int>(*c.capacity), cause::kUser, "control API");
  }
  if (!s.ok()) return ErrorResponse(ErrorFromStatus(s));
  return JsonResponse(200, PoolJson(*market.catalog().FindPool(id)));
}

HttpResponse PatchPool(ControlApi& api, const ControlRequest& req) {
  const std::string& id = req.Param("id");
  ApiResult<PoolChange> change = ParsePoolChange(req);
  if (!change.ok()) return ErrorResponse(change.error());
  HttpResponse out = api.host().With(
      [&](Market& market, VirtualClock&) { return ApplyPoolChange(market, id, *change); });
  api.Tick();
  return out;
}

HttpResponse PriceHistory(ControlApi& api, const ControlRequest& req) {
  std::optional<WallTime> since, until;
  for (const auto& [key, value] : req.query) {
    if (key != "since" && key != "until") {
      return ErrorResponse(UnknownQueryParameter(key, "expected since, until"));
    }
    Result<WallTime> t = ParseVirtualTime(value);
    if (!t.ok()) return ErrorResponse(QueryError(key, t.status().message()));
    (key == "since" ? since : until) = *t;
  }
  const std::string& id = req.Param("id");
  return api.host().With([&](Market& market, VirtualClock&) {
    const Pool* p = market.catalog().FindPool(id);
    if (!p) return UnknownPool(id);
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
}

}  // namespace

void RegisterPoolRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/pools", [&api](const ControlRequest&) {
    return api.host().With([&](Market& market, VirtualClock&) {
      json pools = json::array();
      for (const Pool& p : market.catalog().pools()) pools.push_back(PoolJson(p));
      return JsonResponse(200, {{"pools", pools}});
    });
  });
  router.AddSync("GET", "/v1/pools/{id}", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().With([&](Market& market, VirtualClock&) {
      const Pool* p = market.catalog().FindPool(id);
      if (!p) return UnknownPool(id);
      return JsonResponse(200, PoolJson(*p));
    });
  });
  router.AddSync("PATCH", "/v1/pools/{id}",
                 [&api](const ControlRequest& req) { return PatchPool(api, req); });
  router.AddSync("GET", "/v1/pools/{id}/price-history",
                 [&api](const ControlRequest& req) { return PriceHistory(api, req); });
}

}  // namespace lastcall::mock
