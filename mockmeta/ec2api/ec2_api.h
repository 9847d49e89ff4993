// Ec2Api: mockmeta's EC2 Query API face (docs/mockmeta-ec2.md), a pure request handler: an
// HttpRequest in, an HttpResponse out, no sockets (the server puts it on its own listener).
//
// A request is `POST /` with an application/x-www-form-urlencoded body, or a GET with the same
// parameters in the query: Action=...&Version=2016-11-15&.... The handler decodes the parameters
// (QueryParams), reads the SigV4 signature (any access key is accepted unless credentials are
// given; then the signature is verified and a bad one is AuthFailure), takes the region from the
// credential scope, and calls the action (ec2_action.h) that works on the shared MarketHost:
// one market behind the control API, IMDS and this face. Answers are EC2's XML (element names
// and `item` list wrappers as botocore's service model has them) or EC2's error document with
// EC2's HTTP status. Nothing a client sends can make the handler throw or apply half a call.
//
// Thread-safety: Handle() may be called from any thread; it serialises on the MarketHost.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "mockmeta/ec2api/ec2_action.h"
#include "mockmeta/ec2api/sigv4.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock::ec2 {

inline constexpr std::string_view kEc2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

struct Ec2ApiOptions {
  // Access key -> secret. nullopt: signatures are parsed (for the region) but not verified.
  std::optional<CredentialMap> credentials;
  // Called after every mutating action (the app wakes the control API's event followers).
  std::function<void()> on_change;
};

class Ec2Api {
 public:
  // `host` must outlive the api.
  explicit Ec2Api(MarketHost& host, Ec2ApiOptions options = {});

  HttpResponse Handle(const HttpRequest& request, const RequestContext& context);
  HttpHandler AsHandler();

 private:
  HttpResponse Error(const Ec2Error& e, const std::string& request_id) const;
  std::string NextRequestId();

  Ec2ApiOptions options_;
  Ec2Context context_;
  ActionTable actions_;
  std::atomic<uint64_t> request_seq_{0};
};

}  // namespace lastcall::mock::ec2
