#include "mockmeta/imds/token_store.h"

#include <gtest/gtest.h>

#include <set>

namespace lastcall::mock {
namespace {

using std::chrono::seconds;

TEST(TokenStoreTest, IssuedTokenIsValidForItsInstanceUntilTtl) {
  FakeClock clock;
  TokenStore store(clock, 7);
  std::string token = store.Issue("i-a", seconds(10));
  EXPECT_FALSE(token.empty());
  EXPECT_EQ(store.Validate("i-a", token), TokenStore::Check::kValid);
  clock.Advance(seconds(9));
  EXPECT_EQ(store.Validate("i-a", token), TokenStore::Check::kValid);
  clock.Advance(seconds(1));
  EXPECT_EQ(store.Validate("i-a", token), TokenStore::Check::kExpired);
}

TEST(TokenStoreTest, TokenIsBoundToOneInstance) {
  FakeClock clock;
  TokenStore store(clock, 7);
  std::string token = store.Issue("i-a", seconds(10));
  EXPECT_EQ(store.Validate("i-b", token), TokenStore::Check::kOtherInstance);
}

TEST(TokenStoreTest, UnknownTokenIsUnknown) {
  FakeClock clock;
  TokenStore store(clock, 7);
  EXPECT_EQ(store.Validate("i-a", "AQAEAnope"), TokenStore::Check::kUnknown);
  EXPECT_EQ(store.Validate("i-a", ""), TokenStore::Check::kUnknown);
}

TEST(TokenStoreTest, TokensAreDistinctAndReproducibleForASeed) {
  FakeClock clock;
  TokenStore a(clock, 42), b(clock, 42);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = a.Issue("i-a", seconds(10));
    EXPECT_EQ(t, b.Issue("i-a", seconds(10)));
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(TokenStoreTest, ExpireAllVoidsOnlyThatInstance) {
  FakeClock clock;
  TokenStore store(clock, 7);
  std::string a1 = store.Issue("i-a", seconds(100));
  std::string a2 = store.Issue("i-a", seconds(100));
  std::string b = store.Issue("i-b", seconds(100));
  EXPECT_EQ(store.ExpireAll("i-a"), 2u);
  EXPECT_NE(store.Validate("i-a", a1), TokenStore::Check::kValid);
  EXPECT_NE(store.Validate("i-a", a2), TokenStore::Check::kValid);
  EXPECT_EQ(store.Validate("i-b", b), TokenStore::Check::kValid);
  // A new token after the purge works.
  EXPECT_EQ(store.Validate("i-a", store.Issue("i-a", seconds(1))), TokenStore::Check::kValid);
}

TEST(TokenStoreTest, BoundedStoreDropsExpiredThenSoonestExpiring) {
  FakeClock clock;
  TokenStore store(clock, 7, 3);
  std::string expired = store.Issue("i-a", seconds(1));
  std::string soon = store.Issue("i-a", seconds(50));
  std::string late = store.Issue("i-a", seconds(500));
  clock.Advance(seconds(2));
  std::string t4 = store.Issue("i-a", seconds(100));  // drops `expired`
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.Validate("i-a", soon), TokenStore::Check::kValid);
  std::string t5 = store.Issue("i-a", seconds(100));  // none expired: drops `soon`
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.Validate("i-a", soon), TokenStore::Check::kUnknown);
  EXPECT_EQ(store.Validate("i-a", late), TokenStore::Check::kValid);
  EXPECT_EQ(store.Validate("i-a", t4), TokenStore::Check::kValid);
  EXPECT_EQ(store.Validate("i-a", t5), TokenStore::Check::kValid);
}

}  // namespace
}  // namespace lastcall::mock
