#include "mockmeta/core/rng.h"

#include <gtest/gtest.h>

#include <set>

namespace lastcall::mock {
namespace {

TEST(RngTest, MatchesPublishedSplitMix64Stream) {
  // Reference values of SplitMix64 seeded with 0: any platform must produce these.
  Rng rng(0);
  EXPECT_EQ(rng.Next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.Next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng.Next(), 0x06c45d188009454fULL);
}

TEST(RngTest, SameSeedSameStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RngTest, UniformIntStaysInRangeAndHitsEveryValue) {
  Rng rng(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int64_t v = rng.UniformInt(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(rng.UniformInt(5, 5), 5);
}

TEST(RngTest, UniformDoubleInUnitInterval) {
  Rng rng(9);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double d = rng.UniformDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sum += d;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(RngTest, ForkDependsOnSeedAndTagNotOnDraws) {
  Rng a(1), b(1);
  for (int i = 0; i < 10; ++i) a.Next();
  EXPECT_EQ(a.Fork("x").Next(), b.Fork("x").Next());
  EXPECT_NE(b.Fork("x").Next(), b.Fork("y").Next());
  EXPECT_NE(Rng(1).Fork("x").Next(), Rng(2).Fork("x").Next());
}

}  // namespace
}  // namespace lastcall::mock
