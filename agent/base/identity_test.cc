#include "agent/base/identity.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

Identity Aws(std::string id = "i-0123456789abcdef0") {
  return {std::move(id), "m5.large", "us-east-1a", "us-east-1", "aws"};
}
Identity Ali(std::string id = "i-81nswrrhw66d56uik9ep") {
  return {std::move(id), "ecs.g6.large", "cn-hangzhou-i", "cn-hangzhou", "alibaba"};
}

TEST(ValidateIdentity, AcceptsTheCloudsShapes) {
  EXPECT_TRUE(ValidateIdentity("aws", Aws()).ok());
  EXPECT_TRUE(ValidateIdentity("aws", Aws("i-0abc1234")).ok());
  EXPECT_TRUE(ValidateIdentity("alibaba", Ali()).ok());
  Identity local = Aws();
  local.zone = "us-west-2-lax-1a";
  local.region = "us-west-2";
  EXPECT_TRUE(ValidateIdentity("aws", local).ok());
}

// Regression: a `malformed` answer cut i-81nswrrhw66d56uik9ep to i-81nswrrhw and the agent
// believed it, splitting one notice in two.
TEST(ValidateIdentity, RefusesATruncatedInstanceId) {
  Status s = ValidateIdentity("alibaba", Ali("i-81nswrrhw"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"i-81nswrrhw\""), std::string::npos) << s.message();
  EXPECT_FALSE(ValidateIdentity("aws", Aws("i-0123456789abcdef")).ok());  // 16 digits
  EXPECT_FALSE(ValidateIdentity("aws", Aws("i-0123456789ABCDEF0")).ok());
  EXPECT_FALSE(ValidateIdentity("aws", Aws("{\"garbage\"")).ok());
  EXPECT_FALSE(ValidateIdentity("aws", Aws("")).ok());
}

TEST(ValidateIdentity, RefusesBadZoneRegionAndType) {
  Identity id = Aws();
  id.zone = "us-east-1a\n<0>forged";
  EXPECT_FALSE(ValidateIdentity("aws", id).ok());
  id = Aws();
  id.region = "";
  EXPECT_FALSE(ValidateIdentity("aws", id).ok());
  id = Aws();
  id.instance_type = "m5.large/../../x";
  EXPECT_FALSE(ValidateIdentity("aws", id).ok());
}

TEST(IdentityTracker, BelievesTheFirstReadWhenNothingIsPersisted) {
  IdentityTracker t;
  EXPECT_EQ(t.Observe(Aws()), IdentityTracker::Outcome::kFirst);
  EXPECT_EQ(t.believed(), Aws());
  EXPECT_EQ(t.Observe(Aws()), IdentityTracker::Outcome::kSame);
}

TEST(IdentityTracker, ADifferentIdentityIsBelievedOnlyAfterRepeatedReads) {
  IdentityTracker t(Aws());
  const Identity other = Aws("i-0fedcba9876543210");
  for (int i = 1; i < IdentityTracker::kConfirmReads; ++i) {
    EXPECT_EQ(t.Observe(other), IdentityTracker::Outcome::kPending);
    EXPECT_TRUE(t.pending());
    EXPECT_EQ(t.believed(), Aws());
  }
  EXPECT_EQ(t.Observe(other), IdentityTracker::Outcome::kSwitched);
  EXPECT_EQ(t.believed(), other);
  EXPECT_FALSE(t.pending());
}

TEST(IdentityTracker, AReadOfTheBelievedIdentityResetsTheCandidate) {
  IdentityTracker t(Aws());
  const Identity other = Aws("i-0fedcba9876543210");
  EXPECT_EQ(t.Observe(other), IdentityTracker::Outcome::kPending);
  EXPECT_EQ(t.Observe(other), IdentityTracker::Outcome::kPending);
  EXPECT_EQ(t.Observe(Aws()), IdentityTracker::Outcome::kSame);
  EXPECT_EQ(t.Observe(other), IdentityTracker::Outcome::kPending);
  EXPECT_EQ(t.candidate_reads(), 1);
  // Alternating candidates never add up.
  EXPECT_EQ(t.Observe(Aws("i-0aaaaaaaaaaaaaaaa")), IdentityTracker::Outcome::kPending);
  EXPECT_EQ(t.candidate_reads(), 1);
  EXPECT_EQ(t.believed(), Aws());
}

TEST(IdentityJson, RoundTripsAndValidates) {
  Result<Identity> back = IdentityFromJson(IdentityToJson(Aws()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, Aws());
  EXPECT_FALSE(IdentityFromJson(IdentityToJson(Aws("i-0abc"))).ok());
  EXPECT_FALSE(IdentityFromJson("[]").ok());
  EXPECT_FALSE(IdentityFromJson("{\"instance_id\": 3}").ok());
}

}  // namespace
}  // namespace lastcall
