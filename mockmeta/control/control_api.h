// ControlApi: mockmeta's JSON control API (docs/mockmeta-api.md), as an async HTTP handler.
//
// Routes read and move the virtual clock, read and change pools, read instances with their
// metadata view, page through and follow the event log, load scenarios, inject IMDS faults and
// expire tokens, and drive each flavor. Every route works on the MarketHost (which advances the
// market to "now" first) and validates its whole request before it changes anything. The routes
// live in one file per resource (control_routes.h lists them); this class wires them to one
// ControlRouter and holds what they share.
//
// Following the log: GET /v1/events?cursor=N&wait=30s parks the request (no thread blocks) until
// an event after N exists, the scenario is replaced, or the wait runs out; Tick() (the app's
// timer, and every mutating call) answers the parked requests that are due (ParkedRequests).
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
#include <string>

#include "mockmeta/control/control_router.h"
#include "mockmeta/control/control_watch.h"
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
  void Tick() { parked_.Tick(); }
  // Answers every parked request with 503 (shutdown).
  void CancelWaiters() { parked_.CancelAll(); }
  size_t parked() const { return parked_.size(); }

  // What the routes share.
  MarketHost& host() { return host_; }
  MarketDirectory& directory() { return directory_; }
  TokenStore& tokens() { return tokens_; }
  FaultTable& faults() { return faults_; }
  ParkedRequests& parked_requests() { return parked_; }
  const ControlApiOptions& options() const { return options_; }
  // IMDSv2 / hardened mode for an instance (flavor launches take "http_tokens" too).
  void SetTokensRequired(const std::string& instance_id, bool required);
  const ControlRouter& router() const { return router_; }

 private:
  MarketHost& host_;
  MarketDirectory& directory_;
  TokenStore& tokens_;
  FaultTable& faults_;
  ControlApiOptions options_;
  ParkedRequests parked_;
  ControlRouter router_;
};

}  // namespace lastcall::mock
