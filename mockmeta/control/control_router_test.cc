#include "mockmeta/control/control_router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mockmeta/core/cloud_error.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

HttpResponse Dispatch(const ControlRouter& router, const std::string& method,
                      const std::string& target, std::string body = "") {
  std::optional<HttpResponse> out;
  router.Dispatch(HttpRequest::Make(method, target, {}, std::move(body)),
                  [&](HttpResponse r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value()) << method << " " << target << " was not answered";
  return out.value_or(HttpResponse{});
}

json Error(const HttpResponse& r) { return json::parse(r.body).at("error"); }

TEST(ControlRouterTest, CapturesDecodedPathParametersAndQuery) {
  ControlRouter router;
  router.AddSync("GET", "/v1/pools/{id}", [](const ControlRequest& req) {
    auto it = req.query.find("since");
    return JsonResponse(
        200, {{"id", req.Param("id")}, {"since", it == req.query.end() ? "" : it->second}});
  });
  HttpResponse r = Dispatch(router, "GET", "/v1/pools/m5.large%40us-east-1a?since=a%3Ab&x");
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"], "m5.large@us-east-1a");
  EXPECT_EQ(j["since"], "a:b");
  // A trailing slash is the same route.
  EXPECT_EQ(Dispatch(router, "GET", "/v1/pools/x/").status, 200);
}

TEST(ControlRouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  ControlRouter router;
  router.AddSync("GET", "/v1/clock", [](const ControlRequest&) { return JsonResponse(200, {}); });
  router.AddSync("POST", "/v1/clock", [](const ControlRequest&) { return JsonResponse(200, {}); });
  HttpResponse missing = Dispatch(router, "GET", "/v1/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Error(missing)["code"], "not_found");
  HttpResponse wrong = Dispatch(router, "DELETE", "/v1/clock");
  EXPECT_EQ(wrong.status, 405);
  ASSERT_NE(wrong.Header("Allow"), nullptr);
  EXPECT_EQ(*wrong.Header("Allow"), "GET, POST");
  EXPECT_EQ(Error(wrong)["code"], "method_not_allowed");
}

TEST(ControlRouterTest, AThrowingHandlerAnswers500AndTheRouterGoesOn) {
  ControlRouter router;
  router.AddSync("GET", "/boom",
                 [](const ControlRequest&) -> HttpResponse { throw std::runtime_error("kaput"); });
  HttpResponse r = Dispatch(router, "GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(Error(r)["message"].get<std::string>(), HasSubstr("kaput"));
}

TEST(ControlRouterTest, JsonBodyRejectsMalformedNonObjectAndOversizeBodies) {
  auto body_error = [](std::string body) {
    HttpRequest http = HttpRequest::Make("POST", "/", {}, std::move(body));
    ControlRequest req{http, {}, {}};
    ApiResult<json> parsed = req.JsonBody();
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? ApiError{} : parsed.error();
  };
  EXPECT_EQ(body_error("{\"a\":").code, "invalid_json");
  EXPECT_EQ(body_error("{\"a\":").status, 400);
  EXPECT_EQ(body_error("[1,2]").code, "wrong_type");
  ApiError big = body_error("\"" + std::string(kMaxJsonBody, 'x') + "\"");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.code, "payload_too_large");

  HttpRequest empty = HttpRequest::Make("POST", "/");
  ControlRequest req{empty, {}, {}};
  EXPECT_TRUE(req.JsonBody(/*allow_empty=*/true).ok());
  EXPECT_FALSE(req.JsonBody().ok());
}

TEST(JsonFieldsTest, UnknownFieldNamesTheFieldAndTheAllowedOnes) {
  json j = {{"price", 1}, {"prise", 2}};
  JsonFields f(j, "", {"price", "capacity"});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "unknown_field");
  EXPECT_EQ(f.error().field, "prise");
  EXPECT_THAT(f.error().message, HasSubstr("price, capacity"));
}

TEST(JsonFieldsTest, WrongTypeOutOfRangeAndMissingAreErrorsWithThePath) {
  json j = {{"s", 1}, {"n", "x"}, {"i", 2.5}, {"r", 11}, {"d", "5 minutes"}};
  {
    JsonFields f(j, "model", {"s", "n", "i", "r", "d"});
    (void)f.String("s");
    EXPECT_EQ(f.error().code, "wrong_type");
    EXPECT_EQ(f.error().field, "model.s");
  }
  {
    JsonFields f(j, "", {"s", "n", "i", "r", "d"});
    (void)f.Integer("i", 0, 10);
    EXPECT_EQ(f.error().code, "wrong_type");
  }
  {
    JsonFields f(j, "", {"s", "n", "i", "r", "d"});
    (void)f.Integer("r", 0, 10);
    EXPECT_EQ(f.error().code, "out_of_range");
    EXPECT_EQ(f.error().field, "r");
  }
  {
    JsonFields f(j, "", {"s", "n", "i", "r", "d"});
    (void)f.DurationField("d", Duration(0), std::chrono::hours(1));
    EXPECT_EQ(f.error().code, "invalid_value");
  }
  {
    JsonFields f(j, "", {"s", "n", "i", "r", "d", "q"});
    (void)f.Number("q", 0, 1, /*required=*/true);
    EXPECT_EQ(f.error().code, "missing_field");
  }
  {
    // The first error wins: later reads do not overwrite it.
    JsonFields f(j, "", {"s", "n", "i", "r", "d"});
    (void)f.Number("n", 0, 1);
    (void)f.String("s");
    EXPECT_EQ(f.error().field, "n");
  }
}

TEST(JsonFieldsTest, ReadsGoodValues) {
  json j = {{"s", "x"},  {"n", 0.5},     {"i", 7},
            {"b", true}, {"d", "1h30m"}, {"t", "2026-04-07T00:00:00Z"}};
  JsonFields f(j, "", {"s", "n", "i", "b", "d", "t"});
  EXPECT_EQ(f.String("s"), "x");
  EXPECT_EQ(f.Number("n", 0, 1), 0.5);
  EXPECT_EQ(f.Integer("i", 0, 10), 7);
  EXPECT_EQ(f.Bool("b"), true);
  EXPECT_EQ(f.DurationField("d", Duration(0), std::chrono::hours(2)), std::chrono::minutes(90));
  EXPECT_TRUE(f.Time("t").has_value());
  EXPECT_FALSE(f.String("absent").has_value());
  EXPECT_TRUE(f.ok());
}

TEST(ControlRouterTest, ErrorFromStatusKeepsTheCloudCode) {
  ApiError e = ErrorFromStatus(CloudError(StatusCode::kResourceExhausted, "OperationDenied.NoStock",
                                          "no stock in the zone"));
  EXPECT_EQ(e.code, "OperationDenied.NoStock");
  EXPECT_EQ(e.message, "no stock in the zone");
  EXPECT_EQ(e.status, 409);
  ApiError plain = ErrorFromStatus(NotFound("gone"));
  EXPECT_EQ(plain.status, 404);
  EXPECT_EQ(plain.message, "gone");
}

TEST(ControlRouterTest, ParseQuerySplitsAndDecodes) {
  auto q = ParseQuery("a=1&b=x%20y&c&&a=2");
  EXPECT_EQ(q["a"], "2");
  EXPECT_EQ(q["b"], "x y");
  EXPECT_EQ(q["c"], "");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace lastcall::mock
