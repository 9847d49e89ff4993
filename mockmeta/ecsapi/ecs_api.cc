#include "mockmeta/ecsapi/ecs_api.h"

#include <cstdio>
#include <utility>

namespace lastcall::mock::ecs {
namespace {

constexpr std::string_view kJsonContentType = "application/json;charset=utf-8";

bool IsFormBody(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  if (!ct) return true;  // the SDKs send one; curl users may not
  return ct->rfind("application/x-www-form-urlencoded", 0) == 0;
}

HttpResponse JsonAnswer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::string(kJsonContentType);
  r.body = std::move(body);
  return r;
}

HttpResponse ErrorAnswer(const EcsError& e, const std::string& request_id) {
  return JsonAnswer(e.http_status(), e.ToJson(request_id));
}

// A parameter, or else the header the V3 SDKs send it in.
std::string ParamOrHeader(const HttpRequest& req, const FormParams& params, std::string_view name,
                          std::string_view header) {
  if (const std::string* v = params.Get(name)) return *v;
  if (const std::string* h = req.Header(header)) return *h;
  return "";
}

}  // namespace

EcsApi::EcsApi(MarketHost& host, EcsApiOptions options)
    : options_(std::move(options)), context_(host, options_.on_change) {
  RegisterInstanceActions(actions_);
  RegisterRunActions(actions_);
  RegisterPriceActions(actions_);
  RegisterZoneActions(actions_);
  RegisterTagActions(actions_);
}

std::string EcsApi::NextRequestId() {
  // A UUID-shaped id (ECS's RequestId form), unique per process and reproducible across runs.
  const uint64_t n = ++request_seq_;
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-A000-%012llX",
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
}

MaybeError EcsApi::Admit(const HttpRequest& request, FormParams& params, std::string& action) {
  if (request.method != "POST" && request.method != "GET") {
    return EcsError{EcsErrorCode::kUnsupportedHttpMethod,
                    "ECS accepts GET and POST, not " + Quote(request.method) + "."};
  }
  FormParams query;
  if (Status s = FormParams::DecodeInto(request.query, query); !s.ok()) {
    return EcsError{EcsErrorCode::kInvalidParameter,
                    "The query string is malformed: " + s.message()};
  }
  params = query;
  if (request.method == "POST" && !request.body.empty()) {
    if (!IsFormBody(request)) {
      return EcsError{EcsErrorCode::kInvalidParameter,
                      "The body must be application/x-www-form-urlencoded."};
    }
    if (Status s = FormParams::DecodeInto(request.body, params); !s.ok()) {
      return EcsError{EcsErrorCode::kInvalidParameter,
                      "The form body is malformed: " + s.message()};
    }
  }
  // Authentication before anything else looks at the parameters.
  Result<SignatureInfo> sig = ReadSignature(request, params);
  if (!sig.ok()) return EcsError{EcsErrorCode::kIncompleteSignature, sig.status().message()};
  if (options_.credentials) {
    if (MaybeError e = VerifySignature(request, query, params, *sig, *options_.credentials)) {
      return e;
    }
    if (!nonces_.Insert(sig->access_key, sig->nonce)) {
      return EcsError{EcsErrorCode::kSignatureNonceUsed,
                      "Specified signature nonce was used already."};
    }
  }
  action = ParamOrHeader(request, params, "Action", "x-acs-action");
  if (action.empty()) {
    return EcsError{EcsErrorCode::kMissingParameter,
                    "The input parameter \"Action\" that is mandatory for processing this request "
                    "is not supplied."};
  }
  const std::string version = ParamOrHeader(request, params, "Version", "x-acs-version");
  if (version.empty()) {
    return EcsError{EcsErrorCode::kMissingParameter,
                    "The input parameter \"Version\" that is mandatory for processing this "
                    "request is not supplied."};
  }
  if (version != kEcsVersion) {
    return EcsError{EcsErrorCode::kInvalidVersion, "Specified parameter Version " + Quote(version) +
                                                       " is not valid (" +
                                                       std::string(kEcsVersion) + ")."};
  }
  if (const std::string* format = params.Get("Format");
      format && *format != "JSON" && *format != "json") {
    return EcsError{EcsErrorCode::kInvalidParameter,
                    "The specified parameter \"Format\" is not valid: only JSON is served."};
  }
  return std::nullopt;
}

HttpResponse EcsApi::Handle(const HttpRequest& request, const RequestContext&) {
  const std::string request_id = NextRequestId();
  FormParams params;
  std::string action;
  if (MaybeError e = Admit(request, params, action)) return ErrorAnswer(*e, request_id);
  auto it = actions_.find(action);
  if (it == actions_.end()) {
    return ErrorAnswer(
        {EcsErrorCode::kInvalidActionNotFound,
         "Specified api " + Quote(action) + " is not found, please check your url and method."},
        request_id);
  }
  EcsCall call{params, action};
  json body = json::object();
  if (MaybeError e = it->second(context_, call, body)) return ErrorAnswer(*e, request_id);
  body["RequestId"] = request_id;
  return JsonAnswer(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

HttpHandler EcsApi::AsHandler() {
  return [this](const HttpRequest& req, const RequestContext& ctx) { return Handle(req, ctx); };
}

}  // namespace lastcall::mock::ecs
