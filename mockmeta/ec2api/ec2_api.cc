#include "mockmeta/ec2api/ec2_api.h"

#include <cstdio>
#include <utility>

namespace lastcall::mock::ec2 {

namespace {

constexpr std::string_view kXmlContentType = "text/xml;charset=UTF-8";

bool IsFormBody(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  if (!ct) return true;  // the SDKs always send one; curl users may not
  return ct->rfind("application/x-www-form-urlencoded", 0) == 0;
}

}  // namespace

Ec2Api::Ec2Api(MarketHost& host, Ec2ApiOptions options)
    : options_(std::move(options)), context_(host, options_.on_change) {
  RegisterSpotActions(actions_);
  RegisterInstanceActions(actions_);
  RegisterRunActions(actions_);
  RegisterPriceActions(actions_);
  RegisterTagActions(actions_);
  RegisterZoneActions(actions_);
}

std::string Ec2Api::NextRequestId() {
  // A UUID-shaped id that is unique per process and reproducible across runs.
  const uint64_t n = ++request_seq_;
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
}

HttpResponse Ec2Api::Error(const Ec2Error& e, const std::string& request_id) const {
  HttpResponse r;
  r.status = e.http_status();
  r.content_type = std::string(kXmlContentType);
  r.body = e.ToXml(request_id);
  return r;
}

HttpResponse Ec2Api::Handle(const HttpRequest& request, const RequestContext&) {
  const std::string request_id = NextRequestId();
  if (request.method != "POST" && request.method != "GET") {
    return Error({Ec2ErrorCode::kInvalidAction,
                  "The EC2 Query API accepts POST and GET, not " + request.method.substr(0, 16)},
                 request_id);
  }
  QueryParams url_query, params;
  if (Status s = QueryParams::DecodeInto(request.query, url_query); !s.ok()) {
    return Error({Ec2ErrorCode::kMalformedQueryString, "query string: " + s.message()}, request_id);
  }
  params = url_query;
  if (request.method == "POST" && !request.body.empty()) {
    if (!IsFormBody(request)) {
      return Error({Ec2ErrorCode::kMalformedQueryString,
                    "the body must be application/x-www-form-urlencoded"},
                   request_id);
    }
    if (Status s = QueryParams::DecodeInto(request.body, params); !s.ok()) {
      return Error({Ec2ErrorCode::kMalformedQueryString, "form body: " + s.message()}, request_id);
    }
  }

  // Authentication before anything else looks at the parameters.
  Result<std::optional<SigV4>> sig = ParseSigV4(request, url_query.all());
  if (!sig.ok()) {
    return Error({Ec2ErrorCode::kIncompleteSignature, sig.status().message()}, request_id);
  }
  if (options_.credentials) {
    if (!sig->has_value()) {
      return Error({Ec2ErrorCode::kAuthFailure,
                    "AWS was not able to validate the provided access credentials: the request "
                    "is not signed"},
                   request_id);
    }
    if (VerifySigV4(request, url_query.all(), **sig, *options_.credentials) != SigV4Check::kOk) {
      return Error({Ec2ErrorCode::kAuthFailure,
                    "AWS was not able to validate the provided access credentials"},
                   request_id);
    }
  }

  const std::string* action = params.Get("Action");
  if (!action || action->empty()) {
    return Error({Ec2ErrorCode::kMissingAction, "The request must contain the parameter Action"},
                 request_id);
  }
  auto it = actions_.find(*action);
  if (it == actions_.end()) {
    return Error({Ec2ErrorCode::kInvalidAction,
                  "The action " + action->substr(0, 64) + " is not valid for this web service."},
                 request_id);
  }
  Ec2Call call{params, *action, sig->has_value() ? (*sig)->region : ""};
  XmlWriter body;
  body.Open(*action + "Response", kEc2Namespace).Leaf("requestId", request_id);
  MaybeError e = it->second(context_, call, body);
  if (e) return Error(*e, request_id);
  body.Close();
  HttpResponse r;
  r.status = 200;
  r.content_type = std::string(kXmlContentType);
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body.str();
  return r;
}

HttpHandler Ec2Api::AsHandler() {
  return [this](const HttpRequest& req, const RequestContext& ctx) { return Handle(req, ctx); };
}

}  // namespace lastcall::mock::ec2
