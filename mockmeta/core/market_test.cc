#include "mockmeta/core/market.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/time_format.h"
#include "mockmeta/core/scenario.h"
#include "mockmeta/core/world.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::mock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kPoolA = "m5.large@us-east-1a";
constexpr const char* kPoolB = "ecs.c5.8xlarge@cn-hangzhou-b";

std::unique_ptr<Market> MakeMarket(uint64_t seed = 7) {
  MarketOptions o;
  o.seed = seed;
  auto m = std::make_unique<Market>(o);
  EXPECT_TRUE(m->AddZone({"us-east-1a", "us-east-1"}).ok());
  EXPECT_TRUE(m->AddZone({"cn-hangzhou-b", "cn-hangzhou"}).ok());
  EXPECT_TRUE(m->AddType({"m5.large", 2, 8, 0.096}).ok());
  EXPECT_TRUE(m->AddType({"ecs.c5.8xlarge", 32, 64, 1.52}).ok());
  return m;
}

PriceModel Walk() {
  PriceModel w;
  w.kind = PriceModelKind::kWalk;
  w.step = minutes(5);
  w.mean = 0.03;
  w.floor = 0.01;
  w.volatility = 0.2;
  return w;
}

// A market with every kind of base step: a walk, a looping trace, a demand pool and actions.
std::unique_ptr<Market> BusyMarket() {
  auto m = MakeMarket();
  EXPECT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, Walk(), std::nullopt).ok());
  PriceModel trace;
  trace.kind = PriceModelKind::kTrace;
  trace.steps = {{Duration(0), 0.152}, {minutes(17), 0.2}, {minutes(50), 0.137}};
  trace.loop = true;
  trace.period = minutes(70);
  EXPECT_TRUE(m->AddPool("ecs.c5.8xlarge", "cn-hangzhou-b", 5, trace, std::nullopt).ok());
  PriceModel demand;
  demand.kind = PriceModelKind::kDemand;
  demand.step = minutes(7);
  demand.base = 0.02;
  EXPECT_TRUE(m->AddPool("m5.large", "cn-hangzhou-b", 4, demand, std::nullopt).ok());
  const WallTime t0 = m->now();
  TimedAction cap;
  cap.at = t0 + minutes(33);
  cap.kind = TimedAction::Kind::kSetCapacity;
  cap.pool = kPoolA;
  cap.capacity = 3;
  cap.label = "cap";
  EXPECT_TRUE(m->Schedule(cap).ok());
  TimedAction price;
  price.at = t0 + hours(2) + seconds(1);
  price.kind = TimedAction::Kind::kSetPrice;
  price.pool = kPoolB;
  price.price = 1.0;
  price.label = "price";
  EXPECT_TRUE(m->Schedule(price).ok());
  TimedAction call;
  call.at = t0 + minutes(90);
  call.label = "fill demand pool";
  call.call = [](Market& mk, WallTime) -> Status {
    for (int i = 0; i < 3; ++i) {
      Instance inst;
      inst.flavor = FlavorKind::kAws;
      inst.type = "m5.large";
      inst.zone = "cn-hangzhou-b";
      inst.spot = true;
      auto r = mk.AddInstance(inst, true, cause::kSchedule);
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  };
  EXPECT_TRUE(m->Schedule(call).ok());
  return m;
}

std::string Dump(const Market& m) {
  std::ostringstream out;
  for (const Event& e : m.log().all()) {
    out << e.seq << ' ' << FormatRfc3339(e.time) << ' ' << e.kind << ' ' << e.id << ' '
        << e.old_state << " -> " << e.new_state << ' ' << e.cause << ' ' << e.detail << '\n';
  }
  for (const Pool& p : m.catalog().pools()) {
    for (const PricePoint& h : p.history)
      out << p.id << ' ' << FormatRfc3339(h.time) << ' ' << h.price << '\n';
  }
  return out.str();
}

TEST(MarketTest, OneBigAdvanceEqualsManySmallOnes) {
  auto one = BusyMarket();
  auto many = BusyMarket();
  auto odd = BusyMarket();
  const WallTime end = one->now() + hours(24);
  ASSERT_TRUE(one->AdvanceTo(end).ok());
  for (WallTime t = many->now(); t < end;) {
    t += minutes(5);
    ASSERT_TRUE(many->AdvanceTo(t).ok());
  }
  for (WallTime t = odd->now(); t < end;) {
    t = std::min(end, t + seconds(413));
    ASSERT_TRUE(odd->AdvanceTo(t).ok());
  }
  EXPECT_GT(one->log().size(), 200u);  // the walk alone moves often
  EXPECT_EQ(Dump(*one), Dump(*many));
  EXPECT_EQ(Dump(*one), Dump(*odd));
}

// The server advances in budgeted slices so that a long advance never holds its thread; the
// slices must not change what happens.
TEST(MarketTest, AdvancingInBudgetedSlicesGivesTheSameLogAsOneAdvance) {
  auto one = BusyMarket();
  auto sliced = BusyMarket();
  const WallTime end = one->now() + hours(24);
  ASSERT_TRUE(one->AdvanceTo(end).ok());
  int slices = 0;
  while (sliced->now() < end) {
    ASSERT_TRUE(sliced->AdvanceTo(end, 7).ok());
    ASSERT_LT(++slices, 100000);
  }
  EXPECT_GT(slices, 10);  // the budget did cut the advance short
  EXPECT_EQ(Dump(*one), Dump(*sliced));
}

// A one-second walk for a long time: the history stays bounded (it grew by a point per step).
TEST(MarketTest, PriceHistoryStaysBoundedAtAFineStep) {
  auto m = MakeMarket();
  PriceModel w = Walk();
  w.step = seconds(1);
  w.volatility = 0.5;
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, w, std::nullopt).ok());
  ASSERT_TRUE(m->AdvanceTo(m->now() + hours(40)).ok());
  const Pool& p = m->catalog().pools()[0];
  EXPECT_LE(p.history.size(), kMaxPriceHistory + kMaxPriceHistory / 4);
  EXPECT_GE(p.history.size(), kMaxPriceHistory / 2);
  EXPECT_LE(m->log().size(), m->log().capacity());
  EXPECT_GT(m->log().last_seq(), m->log().capacity());  // seqs went on counting
  EXPECT_EQ(p.PriceAt(m->now()), p.price);
}

TEST(MarketTest, SameSeedReplaysDifferentSeedDiffers) {
  auto a = MakeMarket(5), b = MakeMarket(5), c = MakeMarket(6);
  for (auto* m : {a.get(), b.get(), c.get()}) {
    ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, Walk(), std::nullopt).ok());
    ASSERT_TRUE(m->AdvanceTo(m->now() + hours(6)).ok());
  }
  EXPECT_EQ(Dump(*a), Dump(*b));
  EXPECT_NE(Dump(*a), Dump(*c));
}

TEST(MarketTest, PriceChangesAreLoggedAndKeptInHistory) {
  auto m = MakeMarket();
  PriceModel fixed;
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, fixed, 0.03).ok());
  const WallTime t0 = m->now();
  ASSERT_TRUE(m->AdvanceTo(t0 + minutes(10)).ok());
  const uint64_t before = m->log().last_seq();
  ASSERT_TRUE(m->SetSpotPrice(kPoolA, 0.05, cause::kUser).ok());
  const Event& e = m->log().all().back();
  EXPECT_EQ(e.seq, before + 1);
  EXPECT_EQ(e.kind, "pool");
  EXPECT_EQ(e.id, kPoolA);
  EXPECT_EQ(e.old_state, "price=0.0300");
  EXPECT_EQ(e.new_state, "price=0.0500");
  EXPECT_EQ(e.cause, "user");
  EXPECT_EQ(e.time, t0 + minutes(10));
  const Pool& p = *m->catalog().FindPool(kPoolA);
  ASSERT_EQ(p.history.size(), 2u);
  EXPECT_DOUBLE_EQ(p.PriceAt(t0 + minutes(9)), 0.03);
  EXPECT_DOUBLE_EQ(p.PriceAt(t0 + minutes(10)), 0.05);
  // Setting the same price again is no change: no event, no history.
  ASSERT_TRUE(m->SetSpotPrice(kPoolA, 0.05, cause::kUser).ok());
  EXPECT_EQ(m->log().last_seq(), before + 1);
  EXPECT_EQ(p.history.size(), 2u);
}

TEST(MarketTest, SpotPriceAboveOnDemandIsRefusedAndNothingChanges) {
  auto m = MakeMarket();
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, PriceModel{}, 0.03).ok());
  const uint64_t before = m->log().last_seq();
  Status s = m->SetSpotPrice(kPoolA, 0.2, cause::kUser);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CloudErrorCode(s), "InvalidParameterValue");
  EXPECT_NE(s.message().find("0.0960"), std::string::npos) << s.message();
  EXPECT_DOUBLE_EQ(m->catalog().FindPool(kPoolA)->price, 0.03);
  EXPECT_EQ(m->log().last_seq(), before);
  EXPECT_EQ(CloudErrorCode(m->SetSpotPrice("nope@x", 0.01, cause::kUser)), "InvalidPool.NotFound");
  // A pool cannot even start above on-demand.
  EXPECT_FALSE(m->AddPool("m5.large", "cn-hangzhou-b", 1, PriceModel{}, 0.5).ok());
  EXPECT_EQ(m->catalog().pools().size(), 1u);
}

TEST(MarketTest, NewTraceModelAppliesAtTheSameInstant) {
  auto m = MakeMarket();
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, Walk(), std::nullopt).ok());
  ASSERT_TRUE(m->AdvanceTo(m->now() + minutes(12)).ok());
  const WallTime t = m->now();
  PriceModel trace;
  trace.kind = PriceModelKind::kTrace;
  trace.steps = {{Duration(0), 0.09}, {minutes(1), 0.01}};
  ASSERT_TRUE(m->SetPriceModel(kPoolA, trace, cause::kUser).ok());
  EXPECT_EQ(m->log().all().back().new_state, "model=trace");
  ASSERT_TRUE(m->AdvanceTo(t).ok());
  EXPECT_DOUBLE_EQ(m->catalog().FindPool(kPoolA)->price, 0.09);
  EXPECT_EQ(m->log().all().back().time, t);
  // The walk's 15-minute step is gone: the next change is the trace's, at t + 1m.
  ASSERT_TRUE(m->AdvanceTo(t + minutes(30)).ok());
  EXPECT_EQ(m->log().all().back().time, t + minutes(1));
  // A bad model is refused with the field named, and the trace stays.
  PriceModel bad = trace;
  bad.steps[0].price = 5;
  Status s = m->SetPriceModel(kPoolA, bad, cause::kUser);
  EXPECT_EQ(CloudErrorCode(s), "InvalidParameterValue");
  EXPECT_NE(s.message().find("steps[0].price"), std::string::npos);
  EXPECT_EQ(m->catalog().FindPool(kPoolA)->model.steps[0].price, 0.09);
}

TEST(MarketTest, SpotCostIntegratesThePriceHistoryPerSecond) {
  auto m = MakeMarket();
  ASSERT_TRUE(m->AddPool("ecs.c5.8xlarge", "cn-hangzhou-b", 1, PriceModel{}, 0.36).ok());
  const WallTime t0 = m->now();
  ASSERT_TRUE(m->AdvanceTo(t0 + minutes(30)).ok());
  ASSERT_TRUE(m->SetSpotPrice(kPoolB, 0.72, cause::kUser).ok());
  const Pool& p = *m->catalog().FindPool(kPoolB);
  // 30 min at 0.36 + 30 min at 0.72 = 0.18 + 0.36.
  EXPECT_NEAR(p.SpotCost(t0, t0 + hours(1)), 0.54, 1e-12);
  EXPECT_NEAR(p.SpotCost(t0 + minutes(40), t0 + minutes(50)), 0.12, 1e-12);
  EXPECT_NEAR(p.SpotCost(t0, t0 + seconds(10)), 0.001, 1e-12);  // per second
  EXPECT_EQ(p.SpotCost(t0 + hours(1), t0), 0);
}

TEST(MarketTest, TimeCannotGoBackwards) {
  auto m = MakeMarket();
  ASSERT_TRUE(m->AdvanceTo(m->now() + hours(1)).ok());
  const WallTime now = m->now();
  EXPECT_FALSE(m->AdvanceTo(now - seconds(1)).ok());
  EXPECT_EQ(m->now(), now);
  TimedAction a;
  a.at = now - seconds(1);
  a.call = [](Market&, WallTime) { return Status::Ok(); };
  EXPECT_FALSE(m->Schedule(a).ok());
  EXPECT_EQ(m->pending_actions(), 0u);
}

// Records what the engine calls, for ordering tests.
class ProbeFlavor final : public Flavor {
 public:
  explicit ProbeFlavor(std::vector<std::string>* trace) : trace_(trace) {}
  std::string_view name() const override { return "probe"; }
  std::optional<FlavorKind> kind() const override { return FlavorKind::kAws; }
  std::optional<WallTime> NextDue() const override { return due_; }
  void RunDue(WallTime now) override {
    trace_->push_back("run " + FormatRfc3339(now) + " price=" + FormatPrice(seen_price_));
    due_ = repeat_ ? std::optional<WallTime>(now) : std::nullopt;
  }
  void OnPoolChanged(const Pool& pool, PoolChange what, WallTime) override {
    seen_price_ = pool.price;
    trace_->push_back("changed " + pool.id + " " + std::to_string(static_cast<int>(what)));
  }
  void FillMetadata(const Instance&, MetadataView& v) const override { v.termination_time = due_; }
  int PendingReleases(int) const override { return 0; }
  std::optional<WallTime> due_;
  bool repeat_ = false;

 private:
  std::vector<std::string>* trace_;
  double seen_price_ = 0;
};

TEST(MarketTest, AtOneInstantActionsThenPriceStepsThenFlavors) {
  auto m = MakeMarket();
  std::vector<std::string> trace;
  auto probe = std::make_unique<ProbeFlavor>(&trace);
  ProbeFlavor* p = probe.get();
  m->AddFlavor(std::move(probe));
  PriceModel trace_model;
  trace_model.kind = PriceModelKind::kTrace;
  trace_model.steps = {{Duration(0), 0.01}, {minutes(5), 0.02}};
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, trace_model, std::nullopt).ok());
  const WallTime t5 = m->now() + minutes(5);
  p->due_ = t5;
  TimedAction a;
  a.at = t5;
  a.kind = TimedAction::Kind::kSetCapacity;
  a.pool = kPoolA;
  a.capacity = 1;
  a.label = "cap";
  ASSERT_TRUE(m->Schedule(a).ok());
  trace.clear();
  ASSERT_TRUE(m->AdvanceTo(t5 + hours(1)).ok());
  const std::vector<std::string> want = {
      "changed m5.large@us-east-1a 1",               // action: capacity
      "changed m5.large@us-east-1a 0",               // then the trace step: price
      "run " + FormatRfc3339(t5) + " price=0.0200",  // then the flavor, seeing the new price
  };
  EXPECT_EQ(trace, want);
  // Log order matches: capacity event before the price event, both at t5.
  const auto& log = m->log().all();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[log.size() - 2].new_state, "capacity=1");
  EXPECT_EQ(log[log.size() - 1].new_state, "price=0.0200");
  EXPECT_EQ(log.back().cause, "market");
  EXPECT_EQ(log.back().detail, "trace");
}

TEST(MarketTest, WorldRegistersAlibabaThenAws) {
  World w;
  ASSERT_NE(w.FlavorFor(FlavorKind::kAlibaba), nullptr);
  ASSERT_NE(w.FlavorFor(FlavorKind::kAws), nullptr);
  EXPECT_EQ(w.FlavorFor(FlavorKind::kAlibaba)->name(), "alibaba");
  EXPECT_EQ(w.FlavorFor(FlavorKind::kAws)->name(), "aws");
  EXPECT_EQ(w.FlavorFor(FlavorKind::kAlibaba), &w.alibaba());
  EXPECT_EQ(w.FlavorFor(FlavorKind::kAws), &w.aws());
  EXPECT_FALSE(w.NextDue().has_value());  // empty market, idle flavors: nothing pending
  // A plain Market has no flavor until one is registered.
  EXPECT_EQ(MakeMarket()->FlavorFor(FlavorKind::kAws), nullptr);
}

TEST(MarketTest, RunawayFlavorIsReportedNotSpunForever) {
  auto m = MakeMarket();
  std::vector<std::string> trace;
  auto probe = std::make_unique<ProbeFlavor>(&trace);
  probe->due_ = m->now() + minutes(1);
  probe->repeat_ = true;
  m->AddFlavor(std::move(probe));
  Status s = m->AdvanceTo(m->now() + hours(1));
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("same instant"), std::string::npos);
}

TEST(MarketTest, FailedTimedActionIsLoggedAndTheLoopGoesOn) {
  auto m = MakeMarket();
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 10, PriceModel{}, 0.03).ok());
  TimedAction bad;
  bad.at = m->now() + minutes(1);
  bad.label = "boom";
  bad.call = [](Market&, WallTime) { return FailedPrecondition("no such thing"); };
  ASSERT_TRUE(m->Schedule(bad).ok());
  TimedAction good;
  good.at = m->now() + minutes(2);
  good.kind = TimedAction::Kind::kSetPrice;
  good.pool = kPoolA;
  good.price = 0.04;
  ASSERT_TRUE(m->Schedule(good).ok());
  ASSERT_TRUE(m->AdvanceTo(m->now() + hours(1)).ok());
  const auto& log = m->log().all();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[log.size() - 2].kind, "action");
  EXPECT_EQ(log[log.size() - 2].id, "boom");
  EXPECT_EQ(log[log.size() - 2].new_state, "failed");
  EXPECT_EQ(log[log.size() - 2].detail, "no such thing");
  EXPECT_EQ(log.back().new_state, "price=0.0400");
  EXPECT_EQ(log.back().cause, "schedule");
}

Instance Spot(FlavorKind f) {
  Instance i;
  i.flavor = f;
  i.type = "m5.large";
  i.zone = "us-east-1a";
  i.spot = true;
  i.state = InstanceState::kRunning;
  return i;
}

TEST(MarketTest, CapacityAccountingIsSharedAndAllOrNothing) {
  auto m = MakeMarket();
  std::vector<std::string> trace;
  m->AddFlavor(std::make_unique<ProbeFlavor>(&trace));
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 2, PriceModel{}, 0.03).ok());
  auto a = m->AddInstance(Spot(FlavorKind::kAws), true, cause::kUser);
  auto b = m->AddInstance(Spot(FlavorKind::kAlibaba), true, cause::kUser);
  ASSERT_TRUE(a.ok() && b.ok());
  const Pool& pool = *m->catalog().FindPool(kPoolA);
  EXPECT_EQ(pool.spot_running, 2);
  const uint64_t seq = m->log().last_seq();
  auto c = m->AddInstance(Spot(FlavorKind::kAws), true, cause::kUser);
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(CloudErrorCode(c.status()), "InsufficientInstanceCapacity");
  EXPECT_EQ(m->instances().size(), 2u);
  EXPECT_EQ(m->log().last_seq(), seq);
  // The flavors hear about usage changes (kUsage == 3).
  EXPECT_NE(std::find(trace.begin(), trace.end(), "changed m5.large@us-east-1a 3"), trace.end());

  ASSERT_TRUE(m->SetCapacity(kPoolA, 1, cause::kUser).ok());
  EXPECT_EQ(pool.Shortage(), 1);
  EXPECT_NE(m->log().all().back().detail.find("stock shortage: 2 running > capacity 1"),
            std::string::npos);
  m->SetInstanceState(**a, InstanceState::kTerminated, cause::kCapacity);
  EXPECT_EQ(pool.spot_running, 1);
  EXPECT_EQ(pool.Shortage(), 0);
  EXPECT_FALSE((*a)->holds_slot);
  EXPECT_EQ((*a)->end_time, m->now());
  EXPECT_EQ(m->log().all().back().old_state, "running");
  EXPECT_EQ(m->log().all().back().new_state, "terminated");
  EXPECT_FALSE(m->SetCapacity(kPoolA, -1, cause::kUser).ok());
  EXPECT_EQ(pool.capacity, 1);
}

TEST(MarketTest, InstancesGetDistinctIdentitiesAndMetadata) {
  auto m = MakeMarket();
  ASSERT_TRUE(m->AddPool("m5.large", "us-east-1a", 5, PriceModel{}, 0.03).ok());
  auto a = m->AddInstance(Spot(FlavorKind::kAws), true, cause::kUser);
  Instance od = Spot(FlavorKind::kAlibaba);
  od.spot = false;
  auto b = m->AddInstance(od, false, cause::kUser);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->id.size(), 19u);  // i- + 17 hex
  EXPECT_EQ((*b)->id.size(), 22u);  // i- + 20
  EXPECT_NE((*a)->private_ip, (*b)->private_ip);
  EXPECT_NE((*a)->mac, (*b)->mac);
  EXPECT_EQ((*a)->region, "us-east-1");
  auto v = m->Metadata((*a)->id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->instance_type, "m5.large");
  EXPECT_EQ(v->zone, "us-east-1a");
  EXPECT_EQ(v->instance_life_cycle, "spot");
  EXPECT_EQ(v->launch_time, m->now());
  EXPECT_EQ(m->Metadata((*b)->id)->instance_life_cycle, "on-demand");
  EXPECT_EQ(CloudErrorCode(m->Metadata("i-nope").status()), "InvalidInstanceID.NotFound");
  // Same seed, same ids.
  auto m2 = MakeMarket();
  ASSERT_TRUE(m2->AddPool("m5.large", "us-east-1a", 5, PriceModel{}, 0.03).ok());
  EXPECT_EQ((*m2->AddInstance(Spot(FlavorKind::kAws), true, cause::kUser))->id, (*a)->id);
}

TEST(MarketTest, UnknownZoneOrTypeIsRefused) {
  auto m = MakeMarket();
  Instance i = Spot(FlavorKind::kAws);
  i.zone = "mars-1a";
  EXPECT_EQ(CloudErrorCode(m->AddInstance(i, false, cause::kUser).status()),
            "InvalidParameterValue");
  EXPECT_TRUE(m->instances().empty());
}

// --- A pool shared by both flavors ----------------------------------------------------------

// Two Alibaba preemptible instances (no protection: checks at +5m, +10m, ...) and two AWS spot
// instances in one pool of 4 slots; the capacity drops by one at `drop_at`.
std::unique_ptr<World> MixedPool(const std::string& drop_at) {
  auto m = ScenarioBuilder()
               .Start("2026-04-07T00:00:00Z")
               .Zone("z1", "r1")
               .Type("t1", 2, 4, 1.0)
               .Pool("t1", "z1", 4, 0.1)
               .SetCapacity(drop_at, "t1@z1", 3)
               .Entry("alibaba.instance", {{"name", "ali"},
                                           {"zone", "z1"},
                                           {"type", "t1"},
                                           {"spot_strategy", "SpotWithPriceLimit"},
                                           {"spot_price_limit", 0.5},
                                           {"spot_duration", 0},
                                           {"count", 2}})
               .Entry("aws.spot_request", {{"type", "t1"},
                                           {"zone", "z1"},
                                           {"max_price", 0.5},
                                           {"count", 2},
                                           {"request_type", "one-time"},
                                           {"name", "aws"}})
               .Load("mixed.toml");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : nullptr;
}

struct Losses {
  int alibaba = 0;  // To Be Released
  int aws = 0;      // instance-action
};

Losses CountNotices(const Market& m) {
  Losses l;
  for (const Event& e : m.log().all()) {
    if (e.kind != kind::kInstance) continue;
    if (e.new_state == "To Be Released") ++l.alibaba;
    if (e.new_state.rfind("instance-action:", 0) == 0) ++l.aws;
  }
  return l;
}

TEST(MarketTest, MixedPoolShortageTakesOnlyAsManyAsShort) {
  {
    // On Alibaba's check instant: Alibaba looks first and takes the one; AWS sees it leaving.
    auto m = MixedPool("10m");
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->AdvanceTo(m->start() + minutes(10)).ok());
    Losses l = CountNotices(*m);
    EXPECT_EQ(l.alibaba, 1);
    EXPECT_EQ(l.aws, 0);
    ASSERT_TRUE(m->AdvanceTo(m->start() + hours(1)).ok());
    l = CountNotices(*m);
    EXPECT_EQ(l.alibaba + l.aws, 1);
    const Pool& pool = *m->catalog().FindPool("t1@z1");
    EXPECT_EQ(pool.spot_running, 3);
    EXPECT_EQ(pool.Shortage(), 0);
  }
  {
    // Between Alibaba's checks: AWS answers at once; Alibaba's check at +10m, while the AWS
    // instance is still leaving (until +11m), sees nothing left to take.
    auto m = MixedPool("9m");
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->AdvanceTo(m->start() + minutes(10)).ok());
    Losses l = CountNotices(*m);
    EXPECT_EQ(l.alibaba, 0);
    EXPECT_EQ(l.aws, 1);
    ASSERT_TRUE(m->AdvanceTo(m->start() + hours(1)).ok());
    l = CountNotices(*m);
    EXPECT_EQ(l.alibaba + l.aws, 1);
    EXPECT_EQ(m->catalog().FindPool("t1@z1")->spot_running, 3);
  }
}

// Each flavor's PendingReleases counts its own slot holders that have a notice pending; the
// Market's sums them (what each flavor subtracts from a shortage).
TEST(MarketTest, MixedPoolPendingReleasesPerFlavor) {
  auto m = MixedPool("9m");
  ASSERT_TRUE(m);
  const int pool = m->catalog().FindPool("t1@z1")->index;
  EXPECT_EQ(m->aws().PendingReleases(pool), 0);
  EXPECT_EQ(m->alibaba().PendingReleases(pool), 0);
  ASSERT_TRUE(m->AdvanceTo(m->start() + minutes(9)).ok());
  EXPECT_EQ(m->aws().PendingReleases(pool), 1);
  EXPECT_EQ(m->alibaba().PendingReleases(pool), 0);
  EXPECT_EQ(m->PendingReleases(pool), 1);
  ASSERT_TRUE(m->AdvanceTo(m->start() + minutes(11)).ok());  // the AWS instance is gone
  EXPECT_EQ(m->aws().PendingReleases(pool), 0);
  EXPECT_EQ(m->PendingReleases(pool), 0);
}

}  // namespace
}  // namespace lastcall::mock
