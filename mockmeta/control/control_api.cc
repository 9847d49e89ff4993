#include "mockmeta/control/control_api.h"

#include <utility>

#include "common/time_format.h"
#include "mockmeta/control/control_routes.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {

ControlApi::ControlApi(MarketHost& host, MarketDirectory& directory, TokenStore& tokens,
                       FaultTable& faults, ControlApiOptions options)
    : host_(host),
      directory_(directory),
      tokens_(tokens),
      faults_(faults),
      options_(std::move(options)),
      parked_(host, options_.max_waiters) {
  RegisterServiceRoutes(router_, *this);
  RegisterClockRoutes(router_, *this);
  RegisterPoolRoutes(router_, *this);
  RegisterInstanceRoutes(router_, *this);
  RegisterBillingRoutes(router_, *this);
  RegisterEventRoutes(router_, *this);
  RegisterScenarioRoutes(router_, *this);
  RegisterFaultRoutes(router_, *this);
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

void RegisterServiceRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/health", [&api](const ControlRequest&) {
    MarketHost& host = api.host();
    nlohmann::json body;
    Status engine = host.last_error();
    host.With([&](Market& market, VirtualClock& clock) {
      body = {{"status", "ok"},
              {"version", api.options().version},
              {"now", FormatRfc3339(clock.Now())},
              {"generation", host.generation()},
              {"last_seq", market.log().last_seq()},
              {"instances", market.instances().size()},
              {"pools", market.catalog().pools().size()}};
    });
    if (!engine.ok()) body["engine_error"] = engine.ToString();
    return JsonResponse(200, body);
  });

  router.AddSync("GET", "/v1/routes", [&api](const ControlRequest&) {
    return JsonResponse(200, {{"routes", api.router().Routes()}});
  });
}

}  // namespace lastcall::mock
