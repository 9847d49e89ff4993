#include "mockmeta/control/control_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mockmeta/core/scenario.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::string_view kScenario = R"(
start = "2026-04-07T00:00:00Z"
[[zone]]
name = "us-east-1a"
region = "us-east-1"
[[instance_type]]
name = "m5.large"
vcpu = 2
memory_gib = 8
on_demand_price = 0.096
[[pool]]
type = "m5.large"
zone = "us-east-1a"
capacity = 5
price = 0.03
[[action]]
at = "10m"
kind = "set_price"
pool = "m5.large@us-east-1a"
price = 0.05
)";

class ControlApiTest : public ::testing::Test {
 protected:
  ControlApiTest()
      : host_(clock_, Load(kScenario), ClockSpec{ClockMode::kManual, 0}),
        vclock_(host_),
        directory_(host_),
        tokens_(vclock_, 7),
        api_(host_, directory_, tokens_, faults_) {}

  static std::unique_ptr<World> Load(std::string_view text) {
    auto m = LoadScenarioText(text, "t.toml");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return std::move(m).value();
  }

  // Calls the API; the response must come at once.
  HttpResponse Call(const std::string& method, const std::string& target, std::string body = "",
                    HttpHeaders headers = {}) {
    std::optional<HttpResponse> out;
    api_.Handle(HttpRequest::Make(method, target, std::move(headers), std::move(body)), {},
                [&](HttpResponse r) { out = std::move(r); });
    EXPECT_TRUE(out.has_value()) << method << " " << target << " was parked";
    return out.value_or(HttpResponse{});
  }
  json CallJson(const std::string& method, const std::string& target, std::string body = "",
                int want = 200) {
    HttpResponse r = Call(method, target, std::move(body));
    EXPECT_EQ(r.status, want) << method << " " << target << ": " << r.body;
    return json::parse(r.body);
  }

  FakeClock clock_;
  MarketHost host_;
  VirtualTimeClock vclock_;
  MarketDirectory directory_;
  TokenStore tokens_;
  FaultTable faults_;
  ControlApi api_;
};

TEST_F(ControlApiTest, AdvanceRunsTheTimedActionAndReportsTheEvents) {
  json before = CallJson("GET", "/v1/clock");
  EXPECT_EQ(before["now"], "2026-04-07T00:00:00Z");
  EXPECT_EQ(before["mode"], "manual");
  json adv = CallJson("POST", "/v1/clock/advance", R"({"by":"15m"})");
  EXPECT_EQ(adv["now"], "2026-04-07T00:15:00Z");
  EXPECT_GE(adv["events"]["last"].get<int>(), adv["events"]["first"].get<int>());
  json pool = CallJson("GET", "/v1/pools/m5.large@us-east-1a");
  EXPECT_DOUBLE_EQ(pool["price"].get<double>(), 0.05);
  json to = CallJson("POST", "/v1/clock/advance", R"({"to":"2026-04-07T01:00:00Z"})");
  EXPECT_EQ(to["now"], "2026-04-07T01:00:00Z");
}

TEST_F(ControlApiTest, AdvanceRejectsBadBodiesAndTheClockStays) {
  auto code = [&](std::string body) {
    HttpResponse r = Call("POST", "/v1/clock/advance", std::move(body));
    EXPECT_EQ(r.status, 400) << r.body;
    return json::parse(r.body)["error"]["code"].get<std::string>();
  };
  EXPECT_EQ(code("{"), "invalid_json");
  EXPECT_EQ(code(R"({"by":"5m","to":"2026-04-07T01:00:00Z"})"), "invalid_value");
  EXPECT_EQ(code("{}"), "invalid_value");
  EXPECT_EQ(code(R"({"by":5})"), "wrong_type");
  EXPECT_EQ(code(R"({"by":"5m","speed":1})"), "unknown_field");
  EXPECT_EQ(code(R"({"to":"2026-04-06T00:00:00Z"})"), "out_of_range");
  EXPECT_EQ(code(R"({"by":"100000h"})"), "out_of_range");
  EXPECT_EQ(CallJson("GET", "/v1/clock")["now"], "2026-04-07T00:00:00Z");
}

TEST_F(ControlApiTest, SpeedSwitchesModes) {
  EXPECT_EQ(CallJson("POST", "/v1/clock/speed", R"({"mode":"speed","speed":60})")["mode"], "speed");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(CallJson("GET", "/v1/clock")["now"], "2026-04-07T00:01:00Z");
  EXPECT_EQ(CallJson("POST", "/v1/clock/speed", R"({"mode":"realtime"})")["mode"], "realtime");
  EXPECT_EQ(CallJson("POST", "/v1/clock/speed", R"({"mode":"manual"})")["mode"], "manual");
  EXPECT_EQ(Call("POST", "/v1/clock/speed", R"({"mode":"speed"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/clock/speed", R"({"mode":"speed","speed":0})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/clock/speed", R"({"mode":"speed","speed":2e6})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/clock/speed", R"({"mode":"manual","speed":2})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/clock/speed", R"({"mode":"warp"})").status, 400);
}

TEST_F(ControlApiTest, PatchPoolIsAllOrNothing) {
  // A good capacity with a bad price changes nothing.
  HttpResponse bad =
      Call("PATCH", "/v1/pools/m5.large@us-east-1a", R"({"capacity":9,"price":0.5})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "price");
  json pool = CallJson("GET", "/v1/pools/m5.large@us-east-1a");
  EXPECT_EQ(pool["capacity"], 5);
  EXPECT_DOUBLE_EQ(pool["price"].get<double>(), 0.03);
  // A bad model with a good price: nothing either.
  HttpResponse bad_model = Call("PATCH", "/v1/pools/m5.large@us-east-1a",
                                R"({"price":0.04,"model":{"kind":"walk","mean":0.03,"typo":1}})");
  EXPECT_EQ(bad_model.status, 400);
  EXPECT_EQ(json::parse(bad_model.body)["error"]["field"], "model.typo");
  EXPECT_DOUBLE_EQ(CallJson("GET", "/v1/pools/m5.large@us-east-1a")["price"].get<double>(), 0.03);

  json ok = CallJson("PATCH", "/v1/pools/m5.large@us-east-1a",
                     R"({"capacity":9,"price":0.04,"model":{"kind":"walk","step":"5m",
                         "mean":0.04,"floor":0.01,"volatility":0.1}})");
  EXPECT_EQ(ok["capacity"], 9);
  EXPECT_DOUBLE_EQ(ok["price"].get<double>(), 0.04);
  EXPECT_EQ(ok["model"]["kind"], "walk");
  EXPECT_EQ(ok["model"]["step"], "5m");
}

TEST_F(ControlApiTest, UnknownPoolAndInstanceAre404WithCloudCodes) {
  HttpResponse p = Call("GET", "/v1/pools/nope@nowhere");
  EXPECT_EQ(p.status, 404);
  EXPECT_EQ(json::parse(p.body)["error"]["code"], "InvalidPool.NotFound");
  EXPECT_EQ(Call("PATCH", "/v1/pools/nope@nowhere", R"({"capacity":1})").status, 404);
  HttpResponse i = Call("GET", "/v1/instances/i-nope");
  EXPECT_EQ(i.status, 404);
  EXPECT_EQ(json::parse(i.body)["error"]["code"], "InvalidInstanceID.NotFound");
  EXPECT_EQ(Call("POST", "/v1/instances/i-nope/tokens/expire").status, 404);
}

TEST_F(ControlApiTest, PriceHistoryFiltersByTime) {
  CallJson("POST", "/v1/clock/advance", R"({"by":"1h"})");
  json all = CallJson("GET", "/v1/pools/m5.large@us-east-1a/price-history");
  ASSERT_EQ(all["prices"].size(), 2u);
  json late =
      CallJson("GET", "/v1/pools/m5.large@us-east-1a/price-history?since=2026-04-07T00:05:00Z");
  ASSERT_EQ(late["prices"].size(), 1u);
  EXPECT_EQ(late["prices"][0]["time"], "2026-04-07T00:10:00Z");
  EXPECT_DOUBLE_EQ(late["price_at_since"].get<double>(), 0.03);
  EXPECT_EQ(Call("GET", "/v1/pools/m5.large@us-east-1a/price-history?since=yesterday").status, 400);
  EXPECT_EQ(Call("GET", "/v1/pools/m5.large@us-east-1a/price-history?from=x").status, 400);
}

TEST_F(ControlApiTest, GenericLaunchThenDescribeWithMetadata) {
  json inst = CallJson("POST", "/v1/instances",
                       R"({"flavor":"aws","type":"m5.large","zone":"us-east-1a","name":"w",
                           "http_tokens":"required"})",
                       201);
  const std::string id = inst["id"];
  json got = CallJson("GET", "/v1/instances/" + id);
  EXPECT_EQ(got["state"], "running");
  EXPECT_EQ(got["pool"], "m5.large@us-east-1a");
  EXPECT_EQ(got["metadata"]["flavor"], "aws");
  EXPECT_EQ(got["http_tokens"], "required");
  EXPECT_EQ(CallJson("GET", "/v1/instances")["instances"].size(), 1u);
  EXPECT_TRUE(directory_.TokensRequired(id));
  CallJson("PATCH", "/v1/instances/" + id, R"({"http_tokens":"optional"})");
  EXPECT_FALSE(directory_.TokensRequired(id));
  // Core errors keep their cloud code.
  HttpResponse bad =
      Call("POST", "/v1/instances", R"({"flavor":"aws","type":"m5.huge","zone":"us-east-1a"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["code"], "InvalidParameterValue");
}

TEST_F(ControlApiTest, EventsPageWithACursor) {
  CallJson("POST", "/v1/clock/advance", R"({"by":"1h"})");
  json first = CallJson("GET", "/v1/events?cursor=0&limit=1");
  ASSERT_EQ(first["events"].size(), 1u);
  EXPECT_EQ(first["events"][0]["seq"], 1);
  EXPECT_EQ(first["next_cursor"], 1);
  json rest = CallJson("GET", "/v1/events?cursor=1");
  ASSERT_FALSE(rest["events"].empty());
  EXPECT_EQ(rest["events"][0]["seq"], 2);
  EXPECT_EQ(rest["events"][0]["cause"], "schedule");
  EXPECT_EQ(Call("GET", "/v1/events?cursor=-1").status, 400);
  EXPECT_EQ(Call("GET", "/v1/events?limit=0").status, 400);
  EXPECT_EQ(Call("GET", "/v1/events?wait=forever").status, 400);
  EXPECT_EQ(Call("GET", "/v1/events?wait=2h").status, 400);
  EXPECT_EQ(Call("GET", "/v1/events?curser=1").status, 400);
}

TEST_F(ControlApiTest, ALongPollParksUntilAnAdvanceCreatesEvents) {
  const uint64_t last = CallJson("GET", "/v1/events?cursor=0")["last_seq"];
  std::optional<HttpResponse> out;
  api_.Handle(HttpRequest::Make("GET", "/v1/events?cursor=" + std::to_string(last) + "&wait=30s"),
              {}, [&](HttpResponse r) { out = std::move(r); });
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(api_.parked(), 1u);
  api_.Tick();  // nothing new yet
  EXPECT_FALSE(out.has_value());
  CallJson("POST", "/v1/clock/advance", R"({"by":"15m"})");  // runs the 10m price change
  ASSERT_TRUE(out.has_value());
  json page = json::parse(out->body);
  ASSERT_FALSE(page["events"].empty());
  EXPECT_EQ(page["events"][0]["seq"], last + 1);
  EXPECT_EQ(api_.parked(), 0u);
}

TEST_F(ControlApiTest, ALongPollEndsEmptyWhenTheWaitRunsOut) {
  const uint64_t last = CallJson("GET", "/v1/events")["last_seq"];
  std::optional<HttpResponse> out;
  api_.Handle(HttpRequest::Make("GET", "/v1/events?cursor=" + std::to_string(last) + "&wait=2s"),
              {}, [&](HttpResponse r) { out = std::move(r); });
  clock_.Advance(std::chrono::seconds(1));
  api_.Tick();
  EXPECT_FALSE(out.has_value());
  clock_.Advance(std::chrono::seconds(1));
  api_.Tick();
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(json::parse(out->body)["events"].empty());
  EXPECT_EQ(json::parse(out->body)["next_cursor"], last);
}

// One advance at a fine step once ran entirely inside the request, on the server's only thread.
// Now the request runs one slice and parks; the ticker's slices (host Tick) catch up, other
// requests are served in between, and Tick() answers the advance with every event it made.
TEST_F(ControlApiTest, AnAdvanceTooBigForOneSliceIsParkedAndAnsweredOnceCaughtUp) {
  // The test scenario with a one-second walk in its pool.
  std::string text(kScenario);
  text.insert(text.find("[[action]]"),
              "[pool.model]\nkind = \"walk\"\nstep = \"1s\"\nmean = 0.03\nfloor = 0.01\n"
              "volatility = 0.5\n");
  CallJson("POST", "/v1/scenario", text);
  std::optional<HttpResponse> out;
  api_.Handle(HttpRequest::Make("POST", "/v1/clock/advance", {}, R"({"by":"6h"})"), {},
              [&](HttpResponse r) { out = std::move(r); });
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(api_.parked(), 1u);
  // Served while the advance is under way: the clock already says +6h, the market lags.
  EXPECT_EQ(CallJson("GET", "/v1/health")["status"], "ok");
  EXPECT_EQ(CallJson("GET", "/v1/clock")["now"], "2026-04-07T06:00:00Z");
  int slices = 0;
  while (!host_.Tick()) {
    api_.Tick();
    ASSERT_LT(++slices, 10000);
  }
  EXPECT_GT(slices, 1);
  api_.Tick();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, 200) << out->body;
  json j = json::parse(out->body);
  EXPECT_EQ(j["now"], "2026-04-07T06:00:00Z");
  EXPECT_GT(j["events"]["last"].get<uint64_t>() - j["events"]["first"].get<uint64_t>(), 10000u);
  EXPECT_EQ(api_.parked(), 0u);
}

TEST_F(ControlApiTest, AFineStepThroughTheApiIsRefused) {
  HttpResponse r = Call("PATCH", "/v1/pools/m5.large@us-east-1a",
                        R"({"model":{"kind":"walk","step":"1ms","mean":0.03}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("shorter than 1s"));
}

TEST_F(ControlApiTest, DenormalSpeedNegativeZeroPriceNulNamesAndTheYear2610AreRefused) {
  auto error = [&](const std::string& method, const std::string& target, std::string body) {
    HttpResponse r = Call(method, target, std::move(body));
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    return json::parse(r.body)["error"];
  };
  json e = error("POST", "/v1/clock/speed", R"({"mode":"speed","speed":5e-324})");
  EXPECT_EQ(e["field"], "speed");
  EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("0.001"));
  e = error("PATCH", "/v1/pools/m5.large@us-east-1a", R"({"price":-0.0})");
  EXPECT_EQ(e["field"], "price");
  EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("-0"));
  e = error("POST", "/v1/instances",
            R"({"flavor":"aws","type":"m5.large","zone":"us-east-1a","name":"a\u0000b"})");
  EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("NUL"));
  e = error("POST", "/v1/clock/advance", R"({"to":"2610-01-01T00:00:00Z"})");
  EXPECT_EQ(e["field"], "to");
  EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("1678..2261"));
  EXPECT_EQ(CallJson("GET", "/v1/clock")["now"], "2026-04-07T00:00:00Z");
  EXPECT_DOUBLE_EQ(CallJson("GET", "/v1/pools/m5.large@us-east-1a")["price"].get<double>(), 0.03);
}

TEST_F(ControlApiTest, AScenarioPathThatIsNotARegularFileIsRefusedAtOnce) {
  for (const char* path : {"/dev/zero", "/", "/dev/null"}) {
    HttpResponse r = Call("POST", "/v1/scenario", json{{"path", path}}.dump(),
                          {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    json e = json::parse(r.body)["error"];
    EXPECT_EQ(e["code"], "invalid_scenario");
    EXPECT_EQ(e["field"], "path");
    EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("a scenario must be a regular file"));
  }
  EXPECT_EQ(CallJson("GET", "/v1/pools")["pools"].size(), 1u);  // the market is unchanged
}

TEST_F(ControlApiTest, MoreFaultRulesThanTheLimitAreRefused) {
  json many = json::array();
  for (size_t i = 0; i <= kMaxFaultRules; ++i) many.push_back({{"kind", "drop"}});
  HttpResponse r = Call("PUT", "/v1/faults", json{{"faults", many}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "faults");
  for (size_t i = 0; i < kMaxFaultRules; ++i)
    CallJson("POST", "/v1/faults", R"({"kind":"drop"})", 201);
  r = Call("POST", "/v1/faults", R"({"kind":"drop"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(r.body, HasSubstr("the limit"));
  r = Call("POST", "/v1/faults",
           json{{"kind", "drop"}, {"path", "/" + std::string(3900, 'a')}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "path");
}

TEST_F(ControlApiTest, CancelWaitersAnswers503) {
  std::optional<HttpResponse> out;
  api_.Handle(HttpRequest::Make("GET", "/v1/events?cursor=100&wait=30s"), {},
              [&](HttpResponse r) { out = std::move(r); });
  api_.CancelWaiters();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, 503);
}

TEST_F(ControlApiTest, ABadScenarioLeavesTheOldMarketAndAGoodOneReplacesIt) {
  CallJson("POST", "/v1/clock/advance", R"({"by":"1h"})");
  HttpResponse bad = Call("POST", "/v1/scenario", "[[zone]]\nname = 1\n");
  EXPECT_EQ(bad.status, 400);
  json err = json::parse(bad.body)["error"];
  EXPECT_EQ(err["code"], "invalid_scenario");
  EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("<control-api>:2:"));
  EXPECT_EQ(CallJson("GET", "/v1/clock")["now"], "2026-04-07T01:00:00Z");
  EXPECT_EQ(CallJson("GET", "/v1/pools")["pools"].size(), 1u);

  HttpResponse missing = Call("POST", "/v1/scenario", R"({"path":"/nonexistent/x.toml"})",
                              {{"Content-Type", "application/json"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["error"]["field"], "path");

  std::string text(kScenario);
  text +=
      "\n[[zone]]\nname = \"us-east-1b\"\nregion = \"us-east-1\"\n"
      "[[pool]]\ntype = \"m5.large\"\nzone = \"us-east-1b\"\ncapacity = 1\nprice = 0.02\n";
  json ok = CallJson("POST", "/v1/scenario", text);
  EXPECT_EQ(ok["generation"], 2);
  EXPECT_EQ(CallJson("GET", "/v1/pools")["pools"].size(), 2u);
  EXPECT_EQ(CallJson("GET", "/v1/clock")["now"], "2026-04-07T00:00:00Z");
  // A follower with the old generation is told to start over.
  json page = CallJson("GET", "/v1/events?cursor=50&generation=1");
  EXPECT_EQ(page["reset"], true);
  EXPECT_EQ(page["events"][0]["seq"], 1);
}

TEST_F(ControlApiTest, FaultsAddListReplaceAndClear) {
  const std::string id =
      CallJson("POST", "/v1/instances", R"({"flavor":"aws","type":"m5.large","zone":"us-east-1a"})",
               201)["id"];
  json added =
      CallJson("POST", "/v1/faults", R"({"instance":")" + id + R"(","path":"/latest/meta-data/*",
                            "kind":"error","status":503,"count":2})",
               201);
  EXPECT_EQ(added["kind"], "error");
  EXPECT_EQ(faults_.List().size(), 1u);
  EXPECT_TRUE(faults_.Decide(id, "/latest/meta-data/instance-id").status.has_value());

  // PUT replaces all, or changes nothing when one rule is bad.
  HttpResponse bad =
      Call("PUT", "/v1/faults", R"({"faults":[{"kind":"drop"},{"kind":"error","status":200}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(faults_.List().size(), 1u);
  HttpResponse unknown =
      Call("PUT", "/v1/faults", R"({"faults":[{"kind":"drop","instance":"i-x"}]})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["error"]["field"], "faults[0].instance");
  json put = CallJson("PUT", "/v1/faults",
                      R"({"faults":[{"kind":"latency","latency":"2s"},{"kind":"drop"}]})");
  EXPECT_EQ(put["faults"].size(), 2u);
  EXPECT_EQ(CallJson("GET", "/v1/faults")["faults"].size(), 2u);
  EXPECT_EQ(Call("POST", "/v1/faults", R"({"kind":"latency"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/faults", R"({"kind":"explode"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/faults", R"({"kind":"error","probability":2})").status, 400);

  const uint64_t first = faults_.List()[0].id;
  CallJson("DELETE", "/v1/faults/" + std::to_string(first));
  EXPECT_EQ(Call("DELETE", "/v1/faults/" + std::to_string(first)).status, 404);
  EXPECT_EQ(CallJson("DELETE", "/v1/faults")["removed"], 1);
  EXPECT_TRUE(faults_.List().empty());
}

TEST_F(ControlApiTest, TokensExpireVoidsAnInstancesTokens) {
  const std::string id =
      CallJson("POST", "/v1/instances",
               R"({"flavor":"alibaba","type":"m5.large","zone":"us-east-1a"})", 201)["id"];
  const std::string token = tokens_.Issue(id, std::chrono::seconds(60));
  EXPECT_EQ(tokens_.Validate(id, token), TokenStore::Check::kValid);
  EXPECT_EQ(CallJson("POST", "/v1/instances/" + id + "/tokens/expire")["expired"], 1);
  EXPECT_NE(tokens_.Validate(id, token), TokenStore::Check::kValid);
}

TEST_F(ControlApiTest, HealthAndRoutes) {
  json h = CallJson("GET", "/v1/health");
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["pools"], 1);
  json routes = CallJson("GET", "/v1/routes");
  EXPECT_THAT(routes["routes"].get<std::vector<std::string>>(),
              ::testing::Contains("GET /v1/events"));
}

TEST(ScenarioOptionsTest, SeedOverridesTheFile) {
  std::string text = "seed = 1\n";
  text += kScenario;
  auto own = LoadScenarioText(text, "t.toml");
  auto over = LoadScenarioText(text, "t.toml", ScenarioOptions{.seed = 5});
  ASSERT_TRUE(own.ok() && over.ok());
  EXPECT_EQ((*own)->seed(), 1u);
  EXPECT_EQ((*over)->seed(), 5u);
}

TEST_F(ControlApiTest, AScenarioLoadedThroughTheApiKeepsTheSeedOverride) {
  FakeClock clock;
  MarketHost host(clock, Load(kScenario), ClockSpec{ClockMode::kManual, 0});
  MarketDirectory directory(host);
  ControlApi api(host, directory, tokens_, faults_,
                 ControlApiOptions{.scenario = ScenarioOptions{.seed = 77}});
  std::optional<HttpResponse> out;
  api.Handle(HttpRequest::Make("POST", "/v1/scenario", {}, "seed = 3\n" + std::string(kScenario)),
             {}, [&](HttpResponse r) { out = std::move(r); });
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, 200) << out->body;
  EXPECT_EQ(host.With([](Market& m, VirtualClock&) { return m.seed(); }), 77u);
}

TEST_F(ControlApiTest, InstanceSettingsShowInTheMetadataView) {
  json inst = CallJson("POST", "/v1/instances",
                       R"({"flavor":"aws","type":"m5.large","zone":"us-east-1a"})", 201);
  const std::string id = inst["id"];
  const std::string path = "/v1/instances/" + id + "/settings";
  json put = CallJson("PUT", path, R"({"instance_profile":"render-role","tags":{"team":"r"},
      "metadata_tags":true,"public_ip":"203.0.113.7","key_name":"ops",
      "public_key":"ssh-ed25519 AAAA ops","user_data":"#cloud-config\n",
      "security_groups":["web"],"subnet":"subnet-0abc"})");
  EXPECT_EQ(put["instance_profile"], "render-role");
  EXPECT_EQ(CallJson("GET", path), put);
  std::optional<AwsMetadataView> v = directory_.AwsView(id);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->settings.instance_profile, "render-role");
  EXPECT_EQ(v->public_ipv4, "203.0.113.7");
  EXPECT_EQ(v->public_hostname, "ec2-203-0-113-7.compute-1.amazonaws.com");
  EXPECT_EQ(v->user_data, "#cloud-config\n");
  EXPECT_EQ(v->settings.tags.at("team"), "r");
}

TEST_F(ControlApiTest, BadInstanceSettingsAreRefusedAtTheFieldAndNothingChanges) {
  json inst = CallJson("POST", "/v1/instances",
                       R"({"flavor":"aws","type":"m5.large","zone":"us-east-1a"})", 201);
  const std::string path = "/v1/instances/" + inst["id"].get<std::string>() + "/settings";
  CallJson("PUT", path, R"({"instance_profile":"keep"})");
  for (const char* body :
       {R"({"public_ip":"300.1.2.3"})", R"({"public_key":"ssh-ed25519 AAAA"})",
        R"({"tags":{"a/b":"x"}})", R"({"tags":{"a":1}})", R"({"security_groups":"web"})",
        R"({"instance_profile":"bad role"})", R"({"colour":"red"})"}) {
    HttpResponse r = Call("PUT", path, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(json::parse(r.body)["error"].contains("field")) << r.body;
  }
  EXPECT_EQ(CallJson("GET", path)["instance_profile"], "keep");
  EXPECT_EQ(Call("PUT", "/v1/instances/i-nope/settings", "{}").status, 404);
}

}  // namespace
}  // namespace lastcall::mock
