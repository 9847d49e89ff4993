// ControlApi: mockmeta's JSON control API (docs/mockmeta-api.md), as an async HTTP handler.
//
// Routes read and move the virtual clock, read and change pools, read instances with their
// metadata view, page through and follow the event log, load scenarios, inject IMDS faults and
// expire tokens. Every route works on the MarketHost (which advances the market to "now" first)
// and validates its whole request before it changes anything. Flavor routes are registered from
// control_alibaba.cc / control_aws.cc through RegisterAlibabaRoutes / RegisterAwsRoutes.
//
// Following the log: GET /v1/events?cursor=N&wait=30s parks the request (no thread blocks) until
// an event after N exists, the scenario is replaced, or the wait runs out; Tick() (the app's
// timer, and every mutating call) answers the parked requests that are due.
//
// A clock advance moves the clock at once but the market in slices (MarketHost::kAdvanceSlice):
// one slice runs in the request, and when that does not reach the new time the request is parked
// too and answered by Tick() once the ticker's slices have caught up. The server's thread is never
// held for a long advance, so health, IMDS and SIGTERM are served meanwhile.
//
// Thread-safety: Handle() and Tick() may be called from any thread. Parked responders are
// answered or dropped by Tick()/CancelWaiters(); call CancelWaiters() before the server goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mockmeta/control/control_router.h"
#include "mockmeta/core/scenario.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/imds/fault_table.h"
#include "mockmeta/imds/market_directory.h"
#include "mockmeta/imds/token_store.h"

namespace lastcall::mock {

struct ControlApiOptions {
  std::string version = "0";                            // reported by /v1/health
  Duration max_wait = std::chrono::seconds(60);         // longest long poll
  size_t max_waiters = 256;                             // parked requests; more: 503
  size_t max_event_page = 1000;                         // largest `limit` of /v1/events
  Duration max_advance = std::chrono::hours(24 * 400);  // largest single clock advance
  ScenarioOptions scenario;                             // applied to scenarios loaded via the API
};

class ControlApi;

// Flavor route registration points (control_alibaba.cc, control_aws.cc).
void RegisterAlibabaRoutes(ControlRouter& router, ControlApi& api);
void RegisterAwsRoutes(ControlRouter& router, ControlApi& api);
// GET/PUT /v1/instances/{id}/settings, both flavors (control_settings.cc).
void RegisterInstanceSettingsRoutes(ControlRouter& router, ControlApi& api);

// JSON renderings shared by the base and flavor routes.
nlohmann::json PoolJson(const Pool& pool);
nlohmann::json PriceModelJson(const PriceModel& model);
nlohmann::json EventJson(const Event& event);
nlohmann::json InstanceJson(const World& world, const Instance& instance);
nlohmann::json MetadataJson(const MetadataView& view);
// The flavors' own renderings (control_alibaba.cc, control_aws.cc). AlibabaInstanceJson is
// DescribeInstances' shape; the *CloudJson are the flavor-specific state InstanceJson adds as
// "cloud" (null for an instance the flavor does not know, e.g. a flavor-neutral launch).
nlohmann::json AlibabaInstanceJson(const AlibabaInstanceInfo& info);
nlohmann::json AlibabaBillJson(const AlibabaBill& bill);
nlohmann::json SpotRequestJson(const SpotRequest& request);
nlohmann::json AwsBillJson(const std::string& instance_id, const AwsBill& bill);
nlohmann::json AwsCloudJson(const AwsFlavor& aws, const Instance& instance);
// Parses a price model object ({"kind":"walk","step":"5m",...}); errors name "<where>.<key>".
std::optional<PriceModel> ParsePriceModel(const nlohmann::json& j, const std::string& where,
                                          ApiError& error);

class ControlApi {
 public:
  // All must outlive the api.
  ControlApi(MarketHost& host, MarketDirectory& directory, TokenStore& tokens, FaultTable& faults,
             ControlApiOptions options = {});

  void Handle(const HttpRequest& request, const RequestContext& context,
              const HttpResponder& respond);
  AsyncHttpHandler AsHandler();

  // Answers parked long polls whose events arrived or whose wait ran out, and parked clock
  // advances whose market has caught up.
  void Tick();
  // Answers every parked request with 503 (shutdown).
  void CancelWaiters();
  size_t parked() const;

  MarketHost& host() { return host_; }
  // IMDSv2 / hardened mode for an instance (flavor launches take "http_tokens" too).
  void SetTokensRequired(const std::string& instance_id, bool required);
  const ControlRouter& router() const { return router_; }

 private:
  struct Waiter {
    uint64_t cursor;
    size_t limit;
    uint64_t generation;
    MonoTime deadline;
    HttpResponder respond;
  };

  struct Advancer {
    WallTime target;
    uint64_t first_seq;  // the first event seq the advance may have made
    uint64_t generation;
    HttpResponder respond;
  };

  void RegisterBaseRoutes();
  void Events(const ControlRequest& req, const HttpResponder& respond);
  void AdvanceClock(const ControlRequest& req, const HttpResponder& respond);
  void TickAdvancers();

  MarketHost& host_;
  MarketDirectory& directory_;
  TokenStore& tokens_;
  FaultTable& faults_;
  ControlApiOptions options_;
  ControlRouter router_;
  mutable std::mutex waiters_mu_;  // never held while calling host_
  std::vector<Waiter> waiters_;
  std::vector<Advancer> advancers_;  // guarded by waiters_mu_
};

}  // namespace lastcall::mock
