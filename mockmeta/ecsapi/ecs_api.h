// EcsApi: mockmeta's Alibaba Cloud ECS API face (version 2014-05-26, docs/mockmeta-ecs.md), a
// pure request handler: an HttpRequest in, an HttpResponse out, no sockets (the server puts it
// on its own listener, --ecs-listen).
//
// A request is RPC style: GET with the parameters in the query, or POST with them in the query
// and/or an application/x-www-form-urlencoded body: Action, Version=2014-05-26, Format=JSON,
// RegionId and the action's own. The current SDKs put Action and Version in the x-acs-action
// and x-acs-version headers instead; both are read. The handler decodes the parameters
// (form_params.h), reads the signature (V1 or V3, ecs_signature.h; any key is accepted unless
// credentials are given, then it is verified and a reused nonce refused), and calls the action
// (ecs_action.h) that works on the shared MarketHost: one market behind the control API, IMDS,
// the EC2 face and this one. Answers are JSON with RequestId and ECS's names and nesting, or
// ECS's error document with ECS's HTTP status. Nothing a client sends can make the handler
// throw or apply half a call.
//
// Thread-safety: Handle() may be called from any thread; it serialises on the MarketHost (the
// nonce store has its own lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "mockmeta/ecsapi/ecs_action.h"
#include "mockmeta/ecsapi/ecs_signature.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock::ecs {

inline constexpr std::string_view kEcsVersion = "2014-05-26";

struct EcsApiOptions {
  // Access key id -> secret. nullopt: any key is accepted and signatures are not checked.
  std::optional<CredentialMap> credentials;
  // Called after every mutating action (the app wakes the control API's event followers).
  std::function<void()> on_change;
};

class EcsApi {
 public:
  // `host` must outlive the api.
  explicit EcsApi(MarketHost& host, EcsApiOptions options = {});

  HttpResponse Handle(const HttpRequest& request, const RequestContext& context);
  HttpHandler AsHandler();

 private:
  // Everything before the action runs: decoding, Action/Version/Format, the signature.
  MaybeError Admit(const HttpRequest& request, FormParams& params, std::string& action);
  std::string NextRequestId();

  EcsApiOptions options_;
  EcsContext context_;
  ActionTable actions_;
  NonceStore nonces_;
  std::atomic<uint64_t> request_seq_{0};
};

}  // namespace lastcall::mock::ecs
