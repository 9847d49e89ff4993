#include "mockmeta/imds/fault_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace lastcall::mock {
namespace {

using std::chrono::milliseconds;

FaultRule Rule(FaultKind kind, std::string path = "*", std::string instance = "*") {
  FaultRule r;
  r.kind = kind;
  r.path = std::move(path);
  r.instance = std::move(instance);
  return r;
}

TEST(GlobMatchTest, StarQuestionAndLiterals) {
  EXPECT_TRUE(GlobMatch("*", "/latest/meta-data/spot/instance-action"));
  EXPECT_TRUE(GlobMatch("/latest/meta-data/spot/*", "/latest/meta-data/spot/instance-action"));
  EXPECT_FALSE(GlobMatch("/latest/meta-data/spot/*", "/latest/meta-data/instance-id"));
  EXPECT_TRUE(GlobMatch("/latest/*/instance-id", "/latest/meta-data/instance-id"));
  EXPECT_TRUE(GlobMatch("/latest/meta-data/instance-i?", "/latest/meta-data/instance-id"));
  EXPECT_FALSE(GlobMatch("/latest/meta-data/instance-i?", "/latest/meta-data/instance-i"));
  EXPECT_TRUE(GlobMatch("/a", "/a"));
  EXPECT_FALSE(GlobMatch("/a", "/ab"));
  EXPECT_TRUE(GlobMatch("*a*a*a*b", "xaxaxaxaxb"));
  EXPECT_FALSE(GlobMatch("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac"));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "/"));
}

// The automaton must agree with a plain recursive matcher on many patterns and texts, including
// the star-heavy ones a backtracking matcher is slow on.
bool ReferenceGlob(std::string_view p, std::string_view t) {
  if (p.empty()) return t.empty();
  if (p[0] == '*')
    return ReferenceGlob(p.substr(1), t) || (!t.empty() && ReferenceGlob(p, t.substr(1)));
  return !t.empty() && (p[0] == '?' || p[0] == t[0]) && ReferenceGlob(p.substr(1), t.substr(1));
}

TEST(GlobMatchTest, AgreesWithAReferenceMatcher) {
  const std::vector<std::string> patterns = {"",        "*",   "**",      "?",    "a*",
                                             "*a",      "*a*", "a?b",     "*?*",  "a**b",
                                             "*ab*ba*", "?*?", "/x/*/y?", "a*b*c"};
  const std::vector<std::string> texts = {
      "", "a", "b", "ab", "ba", "aab", "abba", "abab", "/x/q/yz", "/x//y", "acbc", "abcabc", "aXb"};
  for (const auto& p : patterns) {
    for (const auto& t : texts) {
      EXPECT_EQ(GlobMatch(p, t), ReferenceGlob(p, t))
          << "pattern \"" << p << "\" text \"" << t << "\"";
    }
  }
}

// 200 rules with a 3,900-character "*a*a*...": one request took 4.2 s. Patterns are now bounded
// and so is the table; the automaton is linear in the path (bench: none needed, the bounds are).
TEST(GlobMatchTest, PatternsLongerThanTheLimitAreRefused) {
  std::string hostile;
  while (hostile.size() < kMaxFaultPathLength) hostile += "*a";
  hostile.resize(kMaxFaultPathLength);
  EXPECT_TRUE(Glob::Compile(hostile).has_value());
  EXPECT_FALSE(Glob::Compile(hostile + "a").has_value());
  EXPECT_FALSE(GlobMatch(hostile + "*b", std::string(4000, 'a')));
  EXPECT_TRUE(GlobMatch(hostile, std::string(4000, 'a')));
  FaultRule r;
  r.path = "/" + std::string(3900, 'a');
  Status s = ValidateFaultRule(r);
  EXPECT_NE(s.message().find("fault.path: 3901 characters; the limit is 256"), std::string::npos)
      << s.message();
}

TEST(FaultTableTest, TheTableHoldsAtMostTheRuleLimit) {
  FaultTable t;
  FaultRule r;
  r.path = "/latest/*";
  for (size_t i = 0; i < kMaxFaultRules; ++i) ASSERT_TRUE(t.Add(r).ok()) << i;
  Result<FaultTable::Id> over = t.Add(r);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("100 rules"), std::string::npos);
  // Removing one makes room, and the compiled globs stay with their rules.
  ASSERT_TRUE(t.Remove(t.List()[3].id));
  FaultRule other;
  other.path = "/other";
  other.kind = FaultKind::kDrop;
  ASSERT_TRUE(t.Add(other).ok());
  EXPECT_TRUE(t.Decide("i-1", "/other").drop);
  EXPECT_FALSE(t.Decide("i-1", "/latest/x").drop);
  EXPECT_TRUE(t.Decide("i-1", "/latest/x").status.has_value());
}

TEST(FaultTableTest, NoRulesNoFault) {
  FaultTable t;
  EXPECT_FALSE(t.Decide("i-a", "/latest/meta-data/").any());
}

TEST(FaultTableTest, CountLimitsFiringsThenRuleIsGone) {
  FaultTable t;
  FaultRule r = Rule(FaultKind::kErrorStatus, "/latest/meta-data/instance-id");
  r.status = 500;
  r.count = 2;
  ASSERT_TRUE(t.Add(r).ok());
  EXPECT_EQ(t.Decide("i-a", "/latest/meta-data/instance-id").status, 500);
  EXPECT_FALSE(t.Decide("i-a", "/latest/meta-data/ami-id").any());  // other path: not counted
  EXPECT_EQ(t.Decide("i-a", "/latest/meta-data/instance-id/").status, 500);  // trailing slash
  EXPECT_FALSE(t.Decide("i-a", "/latest/meta-data/instance-id").any());
  EXPECT_TRUE(t.List().empty());
}

TEST(FaultTableTest, InstanceScoping) {
  FaultTable t;
  ASSERT_TRUE(t.Add(Rule(FaultKind::kDrop, "*", "i-a")).ok());
  EXPECT_TRUE(t.Decide("i-a", "/").drop);
  EXPECT_FALSE(t.Decide("i-b", "/").drop);
  EXPECT_EQ(t.RemoveForInstance("i-a"), 1u);
  EXPECT_FALSE(t.Decide("i-a", "/").drop);
}

TEST(FaultTableTest, ProbabilityIsSeededAndRoughlyHonoured) {
  auto run = [](uint64_t seed) {
    FaultTable t(seed);
    FaultRule r = Rule(FaultKind::kErrorStatus);
    r.status = 503;
    r.probability = 0.3;
    EXPECT_TRUE(t.Add(r).ok());
    std::string hits;
    for (int i = 0; i < 1000; ++i) hits += t.Decide("i-a", "/x").status ? '1' : '0';
    return hits;
  };
  std::string a = run(9);
  EXPECT_EQ(a, run(9));
  EXPECT_NE(a, run(10));
  auto n = std::count(a.begin(), a.end(), '1');
  EXPECT_GT(n, 220);
  EXPECT_LT(n, 380);
}

TEST(FaultTableTest, ProbabilityZeroNeverFiresOneAlwaysFires) {
  FaultTable t;
  FaultRule never = Rule(FaultKind::kDrop, "/never");
  never.probability = 0.0;
  ASSERT_TRUE(t.Add(never).ok());
  FaultRule always = Rule(FaultKind::kMalformedBody, "/always");
  ASSERT_TRUE(t.Add(always).ok());
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(t.Decide("i-a", "/never").drop);
    EXPECT_TRUE(t.Decide("i-a", "/always").malformed);
  }
}

TEST(FaultTableTest, CountWithProbabilityCountsOnlyFirings) {
  FaultTable t(3);
  FaultRule r = Rule(FaultKind::kErrorStatus);
  r.status = 429;
  r.probability = 0.5;
  r.count = 3;
  ASSERT_TRUE(t.Add(r).ok());
  int fired = 0;
  for (int i = 0; i < 200; ++i) fired += t.Decide("i-a", "/x").status ? 1 : 0;
  EXPECT_EQ(fired, 3);
}

TEST(FaultTableTest, FlapAlternatesStartingWithTheRealAnswer) {
  FaultTable t;
  ASSERT_TRUE(t.Add(Rule(FaultKind::kFlap, "/latest/meta-data/spot/instance-action")).ok());
  std::string seq;
  for (int i = 0; i < 6; ++i) {
    seq += t.Decide("i-a", "/latest/meta-data/spot/instance-action").flap_off ? 'x' : 'o';
  }
  EXPECT_EQ(seq, "oxoxox");
}

TEST(FaultTableTest, EffectsCombine) {
  FaultTable t;
  FaultRule slow = Rule(FaultKind::kLatency);
  slow.latency = milliseconds(200);
  ASSERT_TRUE(t.Add(slow).ok());
  FaultRule slower = slow;
  slower.latency = milliseconds(50);
  ASSERT_TRUE(t.Add(slower).ok());
  FaultRule err = Rule(FaultKind::kErrorStatus);
  err.status = 500;
  ASSERT_TRUE(t.Add(err).ok());
  ASSERT_TRUE(t.Add(Rule(FaultKind::kExpireTokens)).ok());
  FaultDecision d = t.Decide("i-a", "/latest/meta-data/");
  EXPECT_EQ(d.latency, milliseconds(250));
  EXPECT_EQ(d.status, 500);
  EXPECT_TRUE(d.expire_tokens);
  EXPECT_FALSE(d.drop);
}

TEST(FaultTableTest, RemoveAndClear) {
  FaultTable t;
  auto id = t.Add(Rule(FaultKind::kDrop));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(t.Add(Rule(FaultKind::kMalformedBody)).ok());
  EXPECT_TRUE(t.Remove(*id));
  EXPECT_FALSE(t.Remove(*id));
  ASSERT_EQ(t.List().size(), 1u);
  EXPECT_EQ(t.List()[0].rule.kind, FaultKind::kMalformedBody);
  t.Clear();
  EXPECT_TRUE(t.List().empty());
}

TEST(FaultTableTest, ListCountsMatchesAndFirings) {
  FaultTable t(5);
  FaultRule r = Rule(FaultKind::kDrop, "/a");
  r.probability = 0.0;
  ASSERT_TRUE(t.Add(r).ok());
  t.Decide("i-a", "/a");
  t.Decide("i-a", "/b");
  ASSERT_EQ(t.List().size(), 1u);
  EXPECT_EQ(t.List()[0].matched, 1u);
  EXPECT_EQ(t.List()[0].fired, 0u);
}

TEST(FaultTableTest, BadRulesAreRejectedWithTheFieldNamed) {
  FaultTable t;
  auto expect_bad = [&](FaultRule r, std::string_view field) {
    auto id = t.Add(std::move(r));
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find(field), std::string::npos) << id.status().message();
  };
  FaultRule r = Rule(FaultKind::kErrorStatus);
  r.status = 200;
  expect_bad(r, "fault.status");
  r = Rule(FaultKind::kLatency);
  expect_bad(r, "fault.latency");  // zero latency
  r.latency = std::chrono::minutes(5);
  expect_bad(r, "fault.latency");
  r = Rule(FaultKind::kDrop);
  r.probability = 1.5;
  expect_bad(r, "fault.probability");
  r.probability = 0.5;
  r.count = 0;
  expect_bad(r, "fault.count");
  r = Rule(FaultKind::kDrop, "latest/x");
  expect_bad(r, "fault.path");
  r = Rule(FaultKind::kDrop, "*", "");
  expect_bad(r, "fault.instance");
  EXPECT_TRUE(t.List().empty());  // nothing half-applied
}

// The control API names the field from CheckFaultRule's field, not from the message's text.
TEST(FaultTableTest, CheckFaultRuleNamesTheFieldAsAValue) {
  FaultRule r = Rule(FaultKind::kErrorStatus);
  EXPECT_FALSE(CheckFaultRule(r).has_value());
  r.status = 200;
  std::optional<FaultRuleProblem> p = CheckFaultRule(r);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->field, "status");
  EXPECT_EQ(p->message, "200 is not an error status (400..599)");
  EXPECT_EQ(ValidateFaultRule(r).message(), "fault.status: " + p->message);
  r = Rule(FaultKind::kDrop, "latest/x");
  p = CheckFaultRule(r);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->field, "path");
}

TEST(FaultKindTest, NamesRoundTrip) {
  for (FaultKind k :
       {FaultKind::kErrorStatus, FaultKind::kLatency, FaultKind::kDrop, FaultKind::kMalformedBody,
        FaultKind::kExpireTokens, FaultKind::kFlap, FaultKind::kMovingNotice}) {
    EXPECT_EQ(ParseFaultKind(FaultKindName(k)), k);
  }
  EXPECT_EQ(ParseFaultKind("nope"), std::nullopt);
}

}  // namespace
}  // namespace lastcall::mock
