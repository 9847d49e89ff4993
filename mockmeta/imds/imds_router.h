// ImdsRouter: the instance metadata service of every simulated instance, as one HttpHandler.
//
// For each request it (1) finds the instance: by path prefix ("/i-0abc/latest/meta-data/...")
// on any IMDS listener, or, without a prefix, the instance bound to the listener the request
// came in on (port per instance); (2) asks the FaultTable what to break; (3) applies the token
// rules of the instance's flavor (AWS IMDSv2 or Alibaba hardened mode: PUT /latest/api/token
// with a TTL of 1..21600 s, X-Forwarded-For 403, bad/expired/foreign token 401, no token on a
// tokens-required instance 401 on AWS and 403 on Alibaba); (4) answers from the flavor's
// metadata tree. The rules and shapes are documented in docs/mockmeta-imds.md.
//
// The router holds no sockets and no clock: token expiry reads the TokenStore's clock,
// the views come from the InstanceDirectory as of its notion of now.
//
// Thread-safety: Handle() may be called from several threads if the directory, token store and
// fault table are thread-safe (the provided ones are).
#pragma once

#include <string>
#include <string_view>

#include "mockmeta/http/http_message.h"
#include "mockmeta/imds/fault_table.h"
#include "mockmeta/imds/instance_directory.h"
#include "mockmeta/imds/token_store.h"

namespace lastcall::mock {

inline constexpr std::string_view kAwsTokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
inline constexpr std::string_view kAwsTokenHeader = "X-aws-ec2-metadata-token";
inline constexpr std::string_view kAlibabaTokenTtlHeader =
    "X-aliyun-ecs-metadata-token-ttl-seconds";
inline constexpr std::string_view kAlibabaTokenHeader = "X-aliyun-ecs-metadata-token";

// The small XHTML page real IMDS sends with its errors ("<title>404 - Not Found</title>").
HttpResponse ImdsErrorPage(int status);

class ImdsRouter {
 public:
  // All three must outlive the router.
  ImdsRouter(const InstanceDirectory& directory, TokenStore& tokens, FaultTable& faults);

  HttpResponse Handle(const HttpRequest& request, const RequestContext& context) const;

  // A handler for HttpServer::AddListener; the router must outlive it.
  HttpHandler AsHandler() const;

 private:
  const InstanceDirectory& directory_;
  TokenStore& tokens_;
  FaultTable& faults_;
};

}  // namespace lastcall::mock
