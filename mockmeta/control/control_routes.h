// The control API's routes, one registration function per resource file. ControlApi's
// constructor calls them in this order, which is the order GET /v1/routes lists the routes and
// a 405's `Allow` names the methods in.
//
// Thread-safety: registration happens once, before serving; the handlers are ControlApi's.
#pragma once

#include "mockmeta/control/control_api.h"
#include "mockmeta/control/control_router.h"

namespace lastcall::mock {

// GET /v1/health, GET /v1/routes (control_api.cc).
void RegisterServiceRoutes(ControlRouter& router, ControlApi& api);
// GET /v1/clock, POST /v1/clock/advance, POST /v1/clock/speed (control_clock.cc).
void RegisterClockRoutes(ControlRouter& router, ControlApi& api);
// /v1/pools, /v1/pools/{id}, /v1/pools/{id}/price-history (control_pools.cc).
void RegisterPoolRoutes(ControlRouter& router, ControlApi& api);
// /v1/instances, /v1/instances/{id}, /v1/instances/{id}/tokens/expire (control_instances.cc).
void RegisterInstanceRoutes(ControlRouter& router, ControlApi& api);
// GET /v1/billing, GET /v1/instances/{id}/billing, both flavors (control_billing.cc).
void RegisterBillingRoutes(ControlRouter& router, ControlApi& api);
// GET /v1/events (control_events.cc).
void RegisterEventRoutes(ControlRouter& router, ControlApi& api);
// POST /v1/scenario (control_scenario.cc).
void RegisterScenarioRoutes(ControlRouter& router, ControlApi& api);
// /v1/faults, /v1/faults/{id} (control_faults.cc).
void RegisterFaultRoutes(ControlRouter& router, ControlApi& api);
// /v1/alibaba/... (control_alibaba.cc).
void RegisterAlibabaRoutes(ControlRouter& router, ControlApi& api);
// /v1/aws/... (control_aws.cc).
void RegisterAwsRoutes(ControlRouter& router, ControlApi& api);
// GET/PUT /v1/instances/{id}/settings, both flavors (control_settings.cc).
void RegisterInstanceSettingsRoutes(ControlRouter& router, ControlApi& api);

}  // namespace lastcall::mock
