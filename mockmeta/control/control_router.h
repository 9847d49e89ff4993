// ControlRouter: the control API's request plumbing: routes, path parameters, query strings,
// strict JSON bodies and JSON error answers. No market knowledge; the routes live in one file per
// resource (control_clock.cc, control_pools.cc, ..., control_alibaba.cc, control_aws.cc).
//
// A route is a method plus a pattern of '/'-separated segments where "{name}" captures one
// percent-decoded segment ("/v1/pools/{id}"). A handler answers through the HttpResponder, now
// or later (long polls). Unknown paths answer 404, a known path with another method 405 with
// `Allow`; every error body is {"error":{"code","message","field"}}.
//
// JsonFields reads one JSON object strictly: unknown keys, wrong types and out-of-range values
// are errors that name the field ("pool.capacity"); the first error wins, so a handler reads
// everything, checks ok(), and only then applies: nothing is half-applied.
//
// Errors are values: a parser returns ApiResult<T> (common/status.h's Result with an ApiError),
// whose error carries the HTTP status, the code and the field as fields of their own.
//
// Thread-safety: Add() before serving; Dispatch() from any thread (the table is read-only).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/core/scenario.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock {

// Bounds on request bodies that the control API parses (the server's own limit is larger, for
// scenario uploads).
inline constexpr size_t kMaxJsonBody = 64 * 1024;
// kMaxScenarioBody (uploads and files alike) is in mockmeta/core/scenario.h.

struct ApiError {
  int status = 400;
  std::string code;     // "invalid_json", "unknown_field", or a cloud code ("InvalidPool.NotFound")
  std::string message;  // what is wrong, for a person
  std::string field;    // the offending field, "" when none
};

// What the control API's parsers return: a value, or the error to answer with.
template <typename T>
using ApiResult = Result<T, ApiError>;

HttpResponse ErrorResponse(const ApiError& error);
HttpResponse JsonResponse(int status, const nlohmann::json& body);
// A core Status as an API error: the cloud code (CloudErrorCode) when it carries one, else a code
// from the StatusCode; HTTP status from the StatusCode (invalid-argument 400, not-found 404,
// already-exists / failed-precondition / resource-exhausted 409, permission-denied 403).
ApiError ErrorFromStatus(const Status& status, std::string field = {});
int HttpStatusFor(StatusCode code);

std::string PercentDecode(std::string_view s);
// "a=1&b=x%20y" -> {a:1, b:"x y"}; a repeated key keeps the last value.
std::map<std::string, std::string, std::less<>> ParseQuery(std::string_view query);
// A decimal unsigned number (a query parameter, a path segment); nullopt if it is not one.
std::optional<uint64_t> ParseUnsigned(std::string_view s);
// 400 invalid_value for query parameter `key`: "<key>: <message>".
ApiError QueryError(const std::string& key, std::string message);
// 400 unknown_field for query parameter `key`; `expected` says what the call takes
// ("expected since, until").
ApiError UnknownQueryParameter(const std::string& key, std::string_view expected);

struct ControlRequest {
  const HttpRequest& http;
  std::map<std::string, std::string, std::less<>> params;  // from "{name}" segments
  std::map<std::string, std::string, std::less<>> query;

  const std::string& Param(std::string_view name) const;
  // The body as a JSON object, bounded by kMaxJsonBody; an empty body is {} when `allow_empty`.
  ApiResult<nlohmann::json> JsonBody(bool allow_empty = false) const;
};

// Nullopt for an empty body or {} (action routes take no fields), else the error to answer.
std::optional<ApiError> NoFields(const ControlRequest& req);

using ControlHandler = std::function<void(const ControlRequest&, HttpResponder)>;
using SyncControlHandler = std::function<HttpResponse(const ControlRequest&)>;

class ControlRouter {
 public:
  void Add(std::string method, std::string pattern, ControlHandler handler);
  void AddSync(std::string method, std::string pattern, SyncControlHandler handler);

  void Dispatch(const HttpRequest& request, const HttpResponder& respond) const;
  // The routes as "METHOD pattern", in registration order (docs, tests).
  std::vector<std::string> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    ControlHandler handler;
  };
  std::vector<Route> routes_;
};

// Strict reader of one JSON object; see the header comment.
class JsonFields {
 public:
  // `where` prefixes field names in errors ("model" -> "model.kind"); `allowed` are the keys
  // this object may have (others: unknown_field).
  JsonFields(const nlohmann::json& object, std::string where,
             const std::vector<std::string>& allowed);

  bool Has(std::string_view key) const;
  std::optional<std::string> String(std::string_view key, bool required = false);
  std::optional<double> Number(std::string_view key, double min, double max, bool required = false);
  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max,
                                 bool required = false);
  std::optional<bool> Bool(std::string_view key);
  // A duration string ("5m", "250ms") within [min, max].
  std::optional<Duration> DurationField(std::string_view key, Duration min, Duration max,
                                        bool required = false);
  std::optional<WallTime> Time(std::string_view key, bool required = false);
  const nlohmann::json* Object(std::string_view key, bool required = false);
  const nlohmann::json* Array(std::string_view key, bool required = false);

  // Records an error found by the caller (first error wins).
  void Fail(std::string code, std::string_view key, const std::string& message);
  // Records an error found by a nested reader (a list item's JsonFields; first error wins).
  void Adopt(const ApiError& error);
  std::string FieldName(std::string_view key) const;

  bool ok() const { return !error_; }
  const ApiError& error() const { return *error_; }
  // `value` when every read so far succeeded, else the first error.
  template <typename T>
  ApiResult<T> Finish(T value) const {
    if (error_) return *error_;
    return value;
  }

 private:
  const nlohmann::json* Get(std::string_view key, bool required);

  const nlohmann::json& object_;
  std::string where_;
  std::optional<ApiError> error_;
};

}  // namespace lastcall::mock
