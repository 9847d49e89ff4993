// Control routes of the IMDS fault table: list, add one rule, replace the table (all rules valid
// or nothing changes), remove rules by instance or id.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// The rule's fields after the strict read (kind and the latency it needs are checked here).
ApiResult<FaultRule> ReadFaultRule(const json& j, const std::string& where) {
  JsonFields f(j, where, {"instance", "path", "kind", "status", "latency", "count", "probability"});
  FaultRule rule;
  std::optional<std::string> instance = f.String("instance");
  std::optional<std::string> path = f.String("path");
  std::optional<std::string> kind = f.String("kind", true);
  std::optional<int64_t> status = f.Integer("status", 400, 599);
  std::optional<Duration> latency =
      f.DurationField("latency", Duration(1), std::chrono::seconds(60));
  std::optional<int64_t> count = f.Integer("count", 1, 1'000'000'000);
  std::optional<double> probability = f.Number("probability", 0, 1);
  if (f.ok() && kind) {
    std::optional<FaultKind> k = ParseFaultKind(*kind);
    if (!k) {
      f.Fail("invalid_value", "kind",
             "\"" + *kind +
                 "\" is not one of error, latency, drop, malformed, expire-tokens, flap, "
                 "moving-notice");
    } else {
      rule.kind = *k;
    }
  }
  if (f.ok() && rule.kind == FaultKind::kLatency && !latency) {
    f.Fail("missing_field", "latency", "is required for kind latency");
  }
  if (instance) rule.instance = *instance;
  if (path) rule.path = *path;
  if (status) rule.status = static_cast<int>(*status);
  if (latency) rule.latency = *latency;
  if (count) rule.count = static_cast<uint64_t>(*count);
  if (probability) rule.probability = *probability;
  return f.Finish(std::move(rule));
}

// One rule at `where` ("" for a body, "faults[2]" in a list), validated as the table will.
ApiResult<FaultRule> ParseFaultRule(const json& j, const std::string& where) {
  ApiResult<FaultRule> rule = ReadFaultRule(j, where);
  if (!rule.ok()) return rule;
  if (std::optional<FaultRuleProblem> p = CheckFaultRule(*rule)) {
    return ApiError{400, "invalid_value", "fault." + p->field + ": " + p->message,
                    (where.empty() ? "" : where + ".") + p->field};
  }
  return rule;
}

json FaultJson(const FaultTable::Entry& e) {
  json j = {{"id", e.id},
            {"instance", e.rule.instance},
            {"path", e.rule.path},
            {"kind", std::string(FaultKindName(e.rule.kind))},
            {"probability", e.rule.probability},
            {"fired", e.fired},
            {"matched", e.matched}};
  if (e.rule.kind == FaultKind::kErrorStatus) j["status"] = e.rule.status;
  if (e.rule.kind == FaultKind::kLatency) j["latency"] = FormatDuration(e.rule.latency);
  j["count"] = e.rule.count ? json(*e.rule.count) : json(nullptr);
  return j;
}

json FaultListJson(const FaultTable& faults) {
  json list = json::array();
  for (const FaultTable::Entry& e : faults.List()) list.push_back(FaultJson(e));
  return list;
}

// A rule's instance must exist ("*" always does); the error names `field`.
std::optional<ApiError> CheckRuleInstance(ControlApi& api, const FaultRule& rule,
                                          const std::string& field) {
  if (rule.instance == "*") return std::nullopt;
  const bool exists = api.host().With(
      [&](Market& market, VirtualClock&) { return market.FindInstance(rule.instance) != nullptr; });
  if (!exists) return UnknownInstance(rule.instance, field);
  return std::nullopt;
}

HttpResponse AddFault(ControlApi& api, const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return ErrorResponse(body.error());
  ApiResult<FaultRule> rule = ParseFaultRule(*body, "");
  if (!rule.ok()) return ErrorResponse(rule.error());
  if (std::optional<ApiError> e = CheckRuleInstance(api, *rule, "instance")) {
    return ErrorResponse(*e);
  }
  Result<FaultTable::Id> id = api.faults().Add(*rule);
  if (!id.ok()) return ErrorResponse(ErrorFromStatus(id.status()));
  for (const FaultTable::Entry& e : api.faults().List()) {
    if (e.id == *id) return JsonResponse(201, FaultJson(e));
  }
  return JsonResponse(201, {{"id", *id}});
}

// {"faults":[rule...]}: every rule, or the first error.
ApiResult<std::vector<FaultRule>> ParseFaultList(ControlApi& api, const ControlRequest& req) {
  ApiResult<json> body = req.JsonBody();
  if (!body.ok()) return body.error();
  JsonFields f(*body, "", {"faults"});
  const json* list = f.Array("faults", true);
  if (!f.ok()) return f.error();
  if (list->size() > kMaxFaultRules) {
    return ApiError{400, "out_of_range",
                    "faults: " + std::to_string(list->size()) + " rules; the limit is " +
                        std::to_string(kMaxFaultRules),
                    "faults"};
  }
  std::vector<FaultRule> rules;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "faults[" + std::to_string(i) + "]";
    ApiResult<FaultRule> rule = ParseFaultRule((*list)[i], where);
    if (!rule.ok()) return rule.error();
    if (std::optional<ApiError> e = CheckRuleInstance(api, *rule, where + ".instance")) return *e;
    rules.push_back(std::move(rule).value());
  }
  return rules;
}

// Replaces the whole table: all rules valid, or nothing changes.
HttpResponse ReplaceFaults(ControlApi& api, const ControlRequest& req) {
  ApiResult<std::vector<FaultRule>> rules = ParseFaultList(api, req);
  if (!rules.ok()) return ErrorResponse(rules.error());
  api.faults().Clear();
  for (const FaultRule& rule : *rules) (void)api.faults().Add(rule);  // validated above
  return JsonResponse(200, {{"faults", FaultListJson(api.faults())}});
}

HttpResponse ClearFaults(ControlApi& api, const ControlRequest& req) {
  for (const auto& [key, value] : req.query) {
    if (key != "instance") return ErrorResponse(UnknownQueryParameter(key, "expected instance"));
  }
  auto it = req.query.find("instance");
  if (it != req.query.end() && it->second != "*") {
    const size_t n = api.faults().RemoveForInstance(it->second);
    return JsonResponse(200, {{"removed", n}});
  }
  const size_t n = api.faults().List().size();
  api.faults().Clear();
  return JsonResponse(200, {{"removed", n}});
}

}  // namespace

void RegisterFaultRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/faults", [&api](const ControlRequest&) {
    return JsonResponse(200, {{"faults", FaultListJson(api.faults())}});
  });
  router.AddSync("POST", "/v1/faults",
                 [&api](const ControlRequest& req) { return AddFault(api, req); });
  router.AddSync("PUT", "/v1/faults",
                 [&api](const ControlRequest& req) { return ReplaceFaults(api, req); });
  router.AddSync("DELETE", "/v1/faults",
                 [&api](const ControlRequest& req) { return ClearFaults(api, req); });
  router.AddSync("DELETE", "/v1/faults/{id}", [&api](const ControlRequest& req) {
    const std::string& raw = req.Param("id");
    std::optional<uint64_t> id = ParseUnsigned(raw);
    if (!id || !api.faults().Remove(*id)) {
      return ErrorResponse({404, "not_found", "fault " + raw + " does not exist", ""});
    }
    return JsonResponse(200, {{"removed", 1}});
  });
}

}  // namespace lastcall::mock
