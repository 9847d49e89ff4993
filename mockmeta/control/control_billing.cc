// Control routes of billing, both flavors: the account's bill and one instance's.
#include <string>

#include "common/time_format.h"
#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_routes.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

// One instance's bill: the flavor's own figures, or a zero line for a flavor-neutral launch
// (no flavor rules, nothing charged).
json BillJson(const World& world, const Instance& inst) {
  if (inst.flavor == FlavorKind::kAlibaba) {
    Result<AlibabaBill> b = world.alibaba().Bill(inst.id);
    if (b.ok()) return AlibabaBillJson(*b);
  } else {
    Result<AwsBill> b = world.aws().Bill(inst.id);
    if (b.ok()) return AwsBillJson(inst.id, *b);
  }
  return json{{"instance", inst.id},
              {"flavor", std::string(FlavorKindName(inst.flavor))},
              {"usd", 0.0},
              {"note", "flavor-neutral launch (POST /v1/instances): not billed"}};
}

HttpResponse AccountBill(ControlApi& api, const ControlRequest& req) {
  if (!req.query.empty()) {
    return ErrorResponse(UnknownQueryParameter(req.query.begin()->first, "none taken"));
  }
  return api.host().WithWorld([&](World& world, VirtualClock& clock) {
    json list = json::array();
    for (const auto& [id, inst] : world.instances()) list.push_back(BillJson(world, inst));
    const double ali_total = world.alibaba().AccountCharged();
    const double aws_total = world.aws().AccountBill();
    return JsonResponse(200, {{"now", FormatRfc3339(clock.Now())},
                              {"account_id", world.account_id()},
                              {"instances", list},
                              {"alibaba", {{"charged", ali_total}}},
                              {"aws", {{"usd", aws_total}}},
                              {"total_usd", ali_total + aws_total}});
  });
}

}  // namespace

void RegisterBillingRoutes(ControlRouter& router, ControlApi& api) {
  router.AddSync("GET", "/v1/billing",
                 [&api](const ControlRequest& req) { return AccountBill(api, req); });
  router.AddSync("GET", "/v1/instances/{id}/billing", [&api](const ControlRequest& req) {
    const std::string& id = req.Param("id");
    return api.host().WithWorld([&](World& world, VirtualClock&) {
      const Instance* inst = world.FindInstance(id);
      if (!inst) return ErrorResponse(UnknownInstance(id));
      return JsonResponse(200, BillJson(world, *inst));
    });
  });
}

}  // namespace lastcall::mock
