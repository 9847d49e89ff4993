#include "mockmeta/core/price_model.h"

#include <gtest/gtest.h>

#include <vector>

namespace lastcall::mock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const WallTime kStart = WallTime(std::chrono::seconds(1'775'520'000));

PriceModel Walk(double mean, double floor, double volatility) {
  PriceModel m;
  m.kind = PriceModelKind::kWalk;
  m.step = minutes(5);
  m.mean = mean;
  m.floor = floor;
  m.volatility = volatility;
  m.reversion = 0.1;
  return m;
}

// Runs `n` steps the way the Market does and returns the prices.
std::vector<double> RunSteps(const PriceModel& m, uint64_t seed, int n, double start_price,
                             double on_demand, double util = 0) {
  PriceModelState s;
  s.start = kStart;
  s.rng = Rng(seed);
  std::vector<double> out;
  double price = start_price;
  std::optional<WallTime> due = PriceModelFirstDue(m, s);
  for (int i = 0; i < n && due; ++i) {
    PriceStep step = PriceModelStep(m, s, price, on_demand, util, *due);
    price = step.price;
    out.push_back(price);
    due = step.next_due;
  }
  return out;
}

TEST(PriceModelTest, WalkNeverLeavesFloorAndOnDemand) {
  // Volatility this high would cross both bounds many times without clamping.
  const PriceModel m = Walk(0.5, 0.2, 1.0);
  ASSERT_TRUE(ValidatePriceModel(m, 0.6).ok());
  bool hit_top = false, hit_floor = false;
  for (double p : RunSteps(m, 3, 5000, 0.5, 0.6)) {
    ASSERT_LE(p, 0.6);
    ASSERT_GE(p, 0.2);
    hit_top = hit_top || p == 0.6;
    hit_floor = hit_floor || p == 0.2;
  }
  EXPECT_TRUE(hit_top);
  EXPECT_TRUE(hit_floor);
}

TEST(PriceModelTest, WalkReplaysWithTheSameSeed) {
  const PriceModel m = Walk(0.15, 0.05, 0.05);
  const auto a = RunSteps(m, 11, 500, 0.15, 1.52);
  EXPECT_EQ(a, RunSteps(m, 11, 500, 0.15, 1.52));
  EXPECT_NE(a, RunSteps(m, 12, 500, 0.15, 1.52));
}

TEST(PriceModelTest, WalkStepsOnAFixedGrid) {
  const PriceModel m = Walk(0.15, 0.05, 0.05);
  PriceModelState s;
  s.start = kStart;
  EXPECT_EQ(*PriceModelFirstDue(m, s), kStart + minutes(5));
  PriceStep step = PriceModelStep(m, s, 0.15, 1.52, 0, kStart + minutes(5));
  EXPECT_EQ(*step.next_due, kStart + minutes(10));
}

TEST(PriceModelTest, WalkRevertsTowardTheMean) {
  PriceModel m = Walk(0.2, 0.0, 0.0);  // no noise: pure reversion
  m.reversion = 0.5;
  const auto p = RunSteps(m, 1, 3, 0.6, 1.0);
  EXPECT_DOUBLE_EQ(p[0], 0.4);
  EXPECT_DOUBLE_EQ(p[1], 0.3);
  EXPECT_DOUBLE_EQ(p[2], 0.25);
}

PriceModel Trace(bool loop) {
  PriceModel m;
  m.kind = PriceModelKind::kTrace;
  m.steps = {{Duration(0), 0.10}, {minutes(30), 0.30}, {hours(1), 0.20}};
  m.loop = loop;
  m.period = hours(2);
  return m;
}

TEST(PriceModelTest, TraceLoopsEveryPeriod) {
  const PriceModel m = Trace(true);
  ASSERT_TRUE(ValidatePriceModel(m, 1.0).ok());
  PriceModelState s;
  s.start = kStart;
  std::vector<std::pair<WallTime, double>> got;
  std::optional<WallTime> due = PriceModelFirstDue(m, s);
  double price = 0;
  for (int i = 0; i < 7; ++i) {
    PriceStep step = PriceModelStep(m, s, price, 1.0, 0, *due);
    got.push_back({*due, step.price});
    price = step.price;
    due = step.next_due;
  }
  const std::vector<std::pair<WallTime, double>> want = {
      {kStart, 0.10},
      {kStart + minutes(30), 0.30},
      {kStart + hours(1), 0.20},
      {kStart + hours(2), 0.10},
      {kStart + hours(2) + minutes(30), 0.30},
      {kStart + hours(3), 0.20},
      {kStart + hours(4), 0.10},
  };
  EXPECT_EQ(got, want);
}

TEST(PriceModelTest, TraceWithoutLoopStopsAfterLastStep) {
  const PriceModel m = Trace(false);
  const auto p = RunSteps(m, 1, 10, 0, 1.0);
  EXPECT_EQ(p, (std::vector<double>{0.10, 0.30, 0.20}));
}

TEST(PriceModelTest, ValidationNamesTheBadField) {
  PriceModel m = Trace(false);
  m.steps[1].price = 2.0;
  Status s = ValidatePriceModel(m, 1.0);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("steps[1].price"), std::string::npos) << s.message();

  m = Trace(false);
  m.steps[2].offset = minutes(30);
  s = ValidatePriceModel(m, 1.0);
  EXPECT_NE(s.message().find("steps[2].at"), std::string::npos) << s.message();

  m = Trace(true);
  m.period = hours(1);  // not longer than the last offset
  EXPECT_NE(ValidatePriceModel(m, 1.0).message().find("period"), std::string::npos);

  m = Walk(0.5, 0.1, 0.1);
  EXPECT_NE(ValidatePriceModel(m, 0.4).message().find("mean"), std::string::npos);
  m = Walk(0.3, 0.5, 0.1);
  EXPECT_FALSE(ValidatePriceModel(m, 1.0).ok());
  m = Walk(0.3, 0.1, 0.1);
  m.step = Duration(0);
  EXPECT_NE(ValidatePriceModel(m, 1.0).message().find("step"), std::string::npos);
}

// A 1 ms walk step made 583k events per virtual 10 minutes and hung the server.
TEST(PriceModelTest, AStepOrLoopPeriodBelowOneSecondIsRefused) {
  PriceModel m = Walk(0.3, 0.1, 0.1);
  m.step = Duration(1);
  Status s = ValidatePriceModel(m, 1.0);
  EXPECT_NE(s.message().find("step 1ms is shorter than 1s"), std::string::npos) << s.message();
  m.step = kMinPriceStep;
  EXPECT_TRUE(ValidatePriceModel(m, 1.0).ok());
  m.kind = PriceModelKind::kDemand;
  m.base = 0.1;
  m.step = std::chrono::milliseconds(999);
  EXPECT_FALSE(ValidatePriceModel(m, 1.0).ok());
  PriceModel trace;
  trace.kind = PriceModelKind::kTrace;
  trace.steps = {{Duration(0), 0.1}};
  trace.loop = true;
  trace.period = Duration(1);
  s = ValidatePriceModel(trace, 1.0);
  EXPECT_NE(s.message().find("period 1ms"), std::string::npos) << s.message();
}

TEST(PriceModelTest, DemandRisesWithUtilisationAndStaysBelowOnDemand) {
  PriceModel m;
  m.kind = PriceModelKind::kDemand;
  m.step = minutes(5);
  m.base = 0.1;
  m.smoothing = 0.5;
  ASSERT_TRUE(ValidatePriceModel(m, 1.0).ok());
  const auto idle = RunSteps(m, 1, 50, 0.1, 1.0, 0.0);
  const auto busy = RunSteps(m, 1, 50, 0.1, 1.0, 0.9);
  const auto full = RunSteps(m, 1, 50, 0.1, 1.0, 1.0);
  EXPECT_DOUBLE_EQ(idle.back(), 0.1);
  EXPECT_GT(busy.back(), 0.7);
  EXPECT_LT(busy.back(), full.back());
  EXPECT_LE(full.back(), 1.0);
  // Gradual: the first step only goes half of the way.
  EXPECT_NEAR(full.front(), 0.55, 1e-9);
}

TEST(PriceModelTest, FormatsPricesWithFourDecimals) {
  EXPECT_EQ(FormatPrice(0.152), "0.1520");
  EXPECT_EQ(FormatPrice(1.52), "1.5200");
  EXPECT_EQ(FormatPrice(0.00012), "0.0001");
  EXPECT_EQ(FormatPrice(0), "0.0000");
  EXPECT_EQ(FormatPrice(12.3456), "12.3456");
  EXPECT_EQ(FormatPrice(-0.5), "-0.5000");
}

TEST(PriceModelTest, FixedNeverSteps) {
  PriceModel m;
  PriceModelState s;
  EXPECT_FALSE(PriceModelFirstDue(m, s).has_value());
}

}  // namespace
}  // namespace lastcall::mock
