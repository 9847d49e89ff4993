#include "mockmeta/testing/scenario_builder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/time_format.h"
#include "mockmeta/core/catalog.h"
#include "mockmeta/core/event_log.h"

namespace lastcall::mock {
namespace {

TEST(ScenarioBuilderTest, TextLoadsWithTheRealLoader) {
  ScenarioBuilder b;
  b.Aws()
      .Pool("m5.large", "us-east-1a", 5, 0.03)
      .SetPrice("10m", "m5.large@us-east-1a", 0.05)
      .SetCapacity("20m", "m5.large@us-east-1a", 2)
      .Start("2026-05-01T00:00:00Z")  // top-level keys after tables still come first
      .Seed(9)
      .AccountId("210987654321");
  auto m = b.Load();
  ASSERT_TRUE(m.ok()) << m.status().ToString() << "\n" << b.Text();
  Market& market = **m;
  EXPECT_EQ(market.seed(), 9u);
  EXPECT_EQ(FormatRfc3339(market.now()), "2026-05-01T00:00:00Z");
  const InstanceType* t = market.catalog().FindType("m5.large");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->vcpu, 2);
  EXPECT_DOUBLE_EQ(t->memory_gib, 8);
  EXPECT_DOUBLE_EQ(t->on_demand_price, 0.096);
  const Pool* p = market.catalog().FindPool("m5.large@us-east-1a");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->capacity, 5);
  EXPECT_DOUBLE_EQ(p->price, 0.03);
  EXPECT_EQ(market.pending_actions(), 2u);
  ASSERT_TRUE(market.AdvanceTo(market.start() + std::chrono::minutes(30)).ok());
  EXPECT_DOUBLE_EQ(p->price, 0.05);
  EXPECT_EQ(p->capacity, 2);
}

TEST(ScenarioBuilderTest, AlibabaCatalogAndAFlavorEntryLaunchAnInstance) {
  auto m = ScenarioBuilder()
               .Alibaba()
               .Pool("ecs.c5.8xlarge", "cn-hangzhou-b", 4, 0.152)
               .Entry("alibaba.instance", {{"name", "a"},
                                           {"zone", "cn-hangzhou-b"},
                                           {"type", "ecs.c5.8xlarge"},
                                           {"spot_strategy", "SpotWithPriceLimit"},
                                           {"spot_price_limit", 0.2},
                                           {"spot_duration", 0}})
               .Load();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ((*m)->instances().size(), 1u);
  EXPECT_EQ((*m)->instances().begin()->second.name, "a");
  const InstanceType* t = (*m)->catalog().FindType("ecs.c5.8xlarge");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->vcpu, 32);
  EXPECT_DOUBLE_EQ(t->on_demand_price, 1.52);
}

TEST(ScenarioBuilderTest, WalkModelAndFixedModelAreWrittenOut) {
  const std::string text =
      ScenarioBuilder()
          .Aws()
          .Pool(
              "m5.large", "us-east-1a", 5, 0.03,
              WalkModel{
                  .step = "5m", .mean = 0.03, .floor = 0.01, .volatility = 0.05, .reversion = 0.2})
          .Zone("us-east-1b", "us-east-1")
          .Pool("m5.large", "us-east-1b", 3, 0.04, /*fixed_model=*/true)
          .Text();
  EXPECT_NE(text.find(R"(model = { kind = "walk", step = "5m", mean = 0.03, floor = 0.01, )"
                      R"(volatility = 0.05, reversion = 0.2 })"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(model = { kind = "fixed" })"), std::string::npos) << text;
  auto m = LoadScenarioText(text, "walk.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->catalog().FindPool("m5.large@us-east-1a")->model.kind, PriceModelKind::kWalk);
  EXPECT_EQ((*m)->catalog().FindPool("m5.large@us-east-1b")->model.kind, PriceModelKind::kFixed);
}

// A whole-number float must stay a float: "1" would be an integer to TOML.
TEST(ScenarioBuilderTest, ValuesAreValidToml) {
  EXPECT_EQ(TomlValue(1.0).toml(), "1.0");
  EXPECT_EQ(TomlValue(0.096).toml(), "0.096");
  EXPECT_EQ(TomlValue(1e-7).toml(), "1e-07");
  EXPECT_EQ(TomlValue(42).toml(), "42");
  EXPECT_EQ(TomlValue(true).toml(), "true");
  EXPECT_EQ(TomlValue("a\"b\\c\nd").toml(), R"("a\"b\\c\u000ad")");
  auto m = ScenarioBuilder().Zone("z \"1\"\\", "r\t1").Type("t1", 2, 4, 1.0).Load();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE((*m)->catalog().FindType("t1"), nullptr);
  EXPECT_DOUBLE_EQ((*m)->catalog().FindType("t1")->on_demand_price, 1.0);
}

// The loader's own error, with the builder's text as the file.
TEST(ScenarioBuilderTest, LoaderErrorsNameTheSourceAndLine) {
  auto m = ScenarioBuilder().Aws().Pool("m5.huge", "us-east-1a", 1, 0.01).Load("mine.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("mine.toml:10:"), std::string::npos) << m.status().message();
}

// The scenario files the shell benches and tests share (tests/scenarios/): each loads and runs a
// virtual day without a failed timed action.
TEST(ScenarioBuilderTest, EveryCheckedInTestScenarioLoadsAndRuns) {
  const std::filesystem::path dir =
      std::filesystem::path(LASTCALL_TEST_SOURCE_DIR) / "tests" / "scenarios";
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    ++found;
    auto m = LoadScenarioFile(entry.path().string());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE((*m)->AdvanceTo((*m)->start() + std::chrono::hours(24)).ok());
    for (const Event& e : (*m)->log().all()) EXPECT_NE(e.kind, kind::kAction) << e.detail;
  }
  EXPECT_GE(found, 1);  // quiet-market.toml at least: a broken path cannot pass
}

}  // namespace
}  // namespace lastcall::mock
