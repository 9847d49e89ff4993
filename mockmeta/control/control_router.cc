#include "mockmeta/control/control_router.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "common/time_format.h"
#include "mockmeta/core/cloud_error.h"
#include "mockmeta/core/virtual_clock.h"

namespace lastcall::mock {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  // A trailing slash is tolerated: "/v1/pools/" is "/v1/pools".
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view JsonTypeName(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_null()) return "null";
  return "something else";
}

std::string FormatNumber(double v) {
  nlohmann::json j = v;
  return j.dump();
}

}  // namespace

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  // Invalid UTF-8 from a client (echoed in a message) is replaced, never thrown.
  return HttpResponse::Json(
      status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

HttpResponse ErrorResponse(const ApiError& error) {
  nlohmann::json e = {{"code", error.code}, {"message", error.message}};
  if (!error.field.empty()) e["field"] = error.field;
  return JsonResponse(error.status, {{"error", e}});
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
      return 409;
    case StatusCode::kTimeout:
      return 504;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::optional<ApiError> NoFields(const ControlRequest& req) {
  ApiResult<nlohmann::json> body = req.JsonBody(true);
  if (!body.ok()) return body.error();
  JsonFields f(*body, "", {});
  if (!f.ok()) return f.error();
  return std::nullopt;
}

ApiError ErrorFromStatus(const Status& status, std::string field) {
  ApiError e;
  e.status = HttpStatusFor(status.code());
  std::string_view cloud = CloudErrorCode(status);
  if (!cloud.empty()) {
    e.code = std::string(cloud);
    e.message = status.message();
  } else {
    e.code = std::string(StatusCodeName(status.code()));
    e.message = status.message();
  }
  e.field = std::move(field);
  return e;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string, std::less<>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  size_t i = 0;
  while (i < query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view part = query.substr(i, j - i);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out[PercentDecode(part)] = "";
      } else {
        out[PercentDecode(part.substr(0, eq))] = PercentDecode(part.substr(eq + 1));
      }
    }
    i = j + 1;
  }
  return out;
}

std::optional<uint64_t> ParseUnsigned(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

ApiError QueryError(const std::string& key, std::string message) {
  return {400, "invalid_value", key + ": " + std::move(message), key};
}

ApiError UnknownQueryParameter(const std::string& key, std::string_view expected) {
  return {400, "unknown_field", key + ": unknown query parameter (" + std::string(expected) + ")",
          key};
}

const std::string& ControlRequest::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

ApiResult<nlohmann::json> ControlRequest::JsonBody(bool allow_empty) const {
  const std::string& body = http.body;
  if (body.size() > kMaxJsonBody) {
    return ApiError{413, "payload_too_large",
                    "request body is " + std::to_string(body.size()) + " bytes; the limit is " +
                        std::to_string(kMaxJsonBody),
                    ""};
  }
  if (allow_empty && body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return nlohmann::json::object();
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return ApiError{400, "invalid_json",
                    "request body is not valid JSON (at byte " + std::to_string(e.byte) + ")", ""};
  } catch (const std::exception& e) {
    return ApiError{400, "invalid_json", std::string("request body is not valid JSON: ") + e.what(),
                    ""};
  }
  if (!j.is_object()) {
    return ApiError{400, "wrong_type",
                    "request body must be a JSON object, not " + std::string(JsonTypeName(j)), ""};
  }
  return j;
}

void ControlRouter::Add(std::string method, std::string pattern, ControlHandler handler) {
  Route r;
  r.segments = SplitPath(pattern);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

void ControlRouter::AddSync(std::string method, std::string pattern, SyncControlHandler handler) {
  Add(std::move(method), std::move(pattern),
      [h = std::move(handler)](const ControlRequest& req, const HttpResponder& respond) {
        respond(h(req));
      });
}

std::vector<std::string> ControlRouter::Routes() const {
  std::vector<std::string> out;
  for (const Route& r : routes_) out.push_back(r.method + " " + r.pattern);
  return out;
}

void ControlRouter::Dispatch(const HttpRequest& request, const HttpResponder& respond) const {
  const std::vector<std::string> segments = SplitPath(request.path);
  std::string allow;
  for (const Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        std::string value = PercentDecode(segments[i]);
        if (value.empty()) match = false;
        params[p.substr(1, p.size() - 2)] = std::move(value);
      } else if (p != segments[i]) {
        match = false;
      }
    }
    if (!match) continue;
    if (r.method != request.method) {
      if (allow.find(r.method) == std::string::npos)
        allow += (allow.empty() ? "" : ", ") + r.method;
      continue;
    }
    ControlRequest req{request, std::move(params), ParseQuery(request.query)};
    try {
      r.handler(req, respond);
    } catch (const std::exception& e) {
      // nlohmann or std errors in a handler: the request fails, the server goes on.
      respond(ErrorResponse({500, "internal", std::string("internal error: ") + e.what(), ""}));
    }
    return;
  }
  if (!allow.empty()) {
    HttpResponse r = ErrorResponse(
        {405, "method_not_allowed",
         request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")", ""});
    r.SetHeader("Allow", allow);
    respond(std::move(r));
    return;
  }
  respond(ErrorResponse({404, "not_found", "no such endpoint: " + request.path, ""}));
}

JsonFields::JsonFields(const nlohmann::json& object, std::string where,
                       const std::vector<std::string>& allowed)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) {
    error_ = ApiError{400, "wrong_type",
                      (where_.empty() ? std::string("body") : where_) + " must be an object, not " +
                          std::string(JsonTypeName(object_)),
                      where_};
    return;
  }
  for (const auto& [key, value] : object_.items()) {
    bool known = false;
    for (const std::string& a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail("unknown_field", key, "unknown field (expected one of: " + list + ")");
      return;
    }
  }
}

std::string JsonFields::FieldName(std::string_view key) const {
  return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
}

void JsonFields::Fail(std::string code, std::string_view key, const std::string& message) {
  if (error_) return;
  std::string field = FieldName(key);
  error_ = ApiError{400, std::move(code), field + ": " + message, field};
}

void JsonFields::Adopt(const ApiError& error) {
  if (!error_) error_ = error;
}

bool JsonFields::Has(std::string_view key) const {
  return object_.is_object() && object_.contains(key);
}

const nlohmann::json* JsonFields::Get(std::string_view key, bool required) {
  if (error_) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end()) {
    if (required) Fail("missing_field", key, "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> JsonFields::String(std::string_view key, bool required) {
  const nlohmann::json* v = Get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Fail("wrong_type", key, "must be a string, not " + std::string(JsonTypeName(*v)));
    return std::nullopt;
  }
  // No name, id, path or time here has a use for NUL, and C APIs would cut the string at it.
  if (v->get_ref<const std::string&>().find('\0') != std::string::npos) {
    Fail("invalid_value", key, "contains a NUL character");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<double> JsonFields::Number(std::string_view key, double min, double max,
                                         bool required) {
  const nlohmann::json* v = Get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    Fail("wrong_type", key, "must be a number, not " + std::string(JsonTypeName(*v)));
    return std::nullopt;
  }
  const double d = v->get<double>();
  // -0.0 passes "d >= 0" and then prints as "-0.0000": refused where negatives are.
  if (min >= 0 && d == 0 && std::signbit(d)) {
    Fail("out_of_range", key, "-0 is negative; write 0");
    return std::nullopt;
  }
  if (!std::isfinite(d) || d < min || d > max) {
    Fail("out_of_range", key,
         FormatNumber(d) + " is out of range [" + FormatNumber(min) + ", " + FormatNumber(max) +
             "]");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> JsonFields::Integer(std::string_view key, int64_t min, int64_t max,
                                           bool required) {
  const nlohmann::json* v = Get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail("wrong_type", key, "must be an integer, not " + std::string(JsonTypeName(*v)));
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    Fail("out_of_range", key, "is out of range");
    return std::nullopt;
  }
  const int64_t i = v->get<int64_t>();
  if (i < min || i > max) {
    Fail("out_of_range", key,
         std::to_string(i) + " is out of range [" + std::to_string(min) + ", " +
             std::to_string(max) + "]");
    return std::nullopt;
  }
  return i;
}

std::optional<bool> JsonFields::Bool(std::string_view key) {
  const nlohmann::json* v = Get(key, false);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail("wrong_type", key, "must be true or false, not " + std::string(JsonTypeName(*v)));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<Duration> JsonFields::DurationField(std::string_view key, Duration min, Duration max,
                                                  bool required) {
  std::optional<std::string> s = String(key, required);
  if (!s) return std::nullopt;
  Result<Duration> d = ParseDuration(*s);
  if (!d.ok()) {
    Fail("invalid_value", key, d.status().message());
    return std::nullopt;
  }
  if (*d < min || *d > max) {
    Fail("out_of_range", key,
         "\"" + *s + "\" is out of range [" + FormatDuration(min) + ", " + FormatDuration(max) +
             "]");
    return std::nullopt;
  }
  return *d;
}

std::optional<WallTime> JsonFields::Time(std::string_view key, bool required) {
  std::optional<std::string> s = String(key, required);
  if (!s) return std::nullopt;
  Result<WallTime> t = ParseVirtualTime(*s);
  if (!t.ok()) {
    Fail("invalid_value", key, t.status().message());
    return std::nullopt;
  }
  return *t;
}

const nlohmann::json* JsonFields::Object(std::string_view key, bool required) {
  const nlohmann::json* v = Get(key, required);
  if (!v) return nullptr;
  if (!v->is_object()) {
    Fail("wrong_type", key, "must be an object, not " + std::string(JsonTypeName(*v)));
    return nullptr;
  }
  return v;
}

const nlohmann::json* JsonFields::Array(std::string_view key, bool required) {
  const nlohmann::json* v = Get(key, required);
  if (!v) return nullptr;
  if (!v->is_array()) {
    Fail("wrong_type", key, "must be an array, not " + std::string(JsonTypeName(*v)));
    return nullptr;
  }
  return v;
}

}  // namespace lastcall::mock
