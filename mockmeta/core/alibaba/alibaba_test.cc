// Tests of the Alibaba flavor: one test per rule of alibaba.md (named after the
// rule), the scenario section, the shipped scenarios, and property tests over
// seeded random markets.
#include "mockmeta/core/alibaba/alibaba.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "common/time_format.h"
#include "mockmeta/core/market.h"
#include "mockmeta/core/scenario.h"
#include "mockmeta/core/world.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::mock {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kZone = "cn-hangzhou-b";
constexpr const char* kType = "ecs.c5.8xlarge";  // pay-as-you-go 1.52 (Alibaba's example)
constexpr const char* kPool = "ecs.c5.8xlarge@cn-hangzhou-b";

std::unique_ptr<World> MakeMarket(uint64_t seed = 7, int capacity = 10, double price = 0.152) {
  MarketOptions o;
  o.seed = seed;
  auto m = std::make_unique<World>(o);
  EXPECT_TRUE(m->AddZone({kZone, "cn-hangzhou"}).ok());
  EXPECT_TRUE(m->AddZone({"cn-hangzhou-k", "cn-hangzhou"}).ok());  // no pool here
  EXPECT_TRUE(m->AddType({kType, 32, 64, 1.52}).ok());
  EXPECT_TRUE(m->AddPool(kType, kZone, capacity, PriceModel{}, price).ok());
  return m;
}

AlibabaRunRequest Limit(double bid, int duration = 1, std::string name = "") {
  AlibabaRunRequest r;
  r.zone = kZone;
  r.instance_type = kType;
  r.strategy = SpotStrategy::kSpotWithPriceLimit;
  r.spot_price_limit = bid;
  r.spot_duration = duration;
  r.name = std::move(name);
  return r;
}

AlibabaRunRequest AsPriceGo(int duration = 1, std::string name = "") {
  AlibabaRunRequest r = Limit(0, duration, std::move(name));
  r.strategy = SpotStrategy::kSpotAsPriceGo;
  r.spot_price_limit.reset();
  return r;
}

AlibabaRunRequest NoSpot() {
  AlibabaRunRequest r = AsPriceGo();
  r.strategy = SpotStrategy::kNoSpot;
  return r;
}

std::string Launch(World& m, const AlibabaRunRequest& req) {
  Result<std::vector<std::string>> ids = m.alibaba().RunInstances(req, cause::kUser);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? ids->front() : "";
}

void Go(World& m, Duration since_start) {
  Status s = m.AdvanceTo(m.start() + since_start);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// Runs `f` inside the simulation at start + d (a timed action).
void At(World& m, Duration d, std::function<Status(World&)> f) {
  TimedAction a;
  a.at = m.start() + d;
  a.label = "test@" + FormatDuration(d);
  a.call = [&m, f = std::move(f)](Market&, WallTime) { return f(m); };
  ASSERT_TRUE(m.Schedule(std::move(a)).ok());
}

void PriceAt(World& m, Duration d, double price) {
  At(m, d, [price](World& mk) { return mk.SetSpotPrice(kPool, price, cause::kSchedule); });
}

void CapacityAt(World& m, Duration d, int capacity) {
  At(m, d, [capacity](World& mk) { return mk.SetCapacity(kPool, capacity, cause::kSchedule); });
}

std::vector<Event> EventsOf(const World& m, std::string_view id) {
  std::vector<Event> out;
  for (const Event& e : m.log().all())
    if (e.id == id) out.push_back(e);
  return out;
}

std::optional<Event> Find(const World& m, std::string_view id, std::string_view new_state) {
  for (const Event& e : m.log().all())
    if (e.id == id && e.new_state == new_state) return e;
  return std::nullopt;
}

std::string_view Code(const Status& s) { return CloudErrorCode(s); }

InstanceState StateOf(const World& m, std::string_view id) { return m.FindInstance(id)->state; }

// --- 1. Creation ---------------------------------------------------------------------------

TEST(AlibabaTest, CreateNoSpotPayAsYouGoNeverRecycled) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, NoSpot());
  EXPECT_FALSE(m->FindInstance(id)->spot);
  EXPECT_EQ(m->catalog().pool(0).spot_running, 0);  // holds no preemptible slot
  PriceAt(*m, minutes(1), 1.52);
  CapacityAt(*m, minutes(1), 0);
  Go(*m, hours(5));
  EXPECT_EQ(StateOf(*m, id), InstanceState::kRunning);
  EXPECT_FALSE(Find(*m, id, "To Be Released"));
  EXPECT_EQ(m->Metadata(id)->instance_life_cycle, "on-demand");
}

TEST(AlibabaTest, CreateSpotWithPriceLimitRequiresSpotPriceLimit) {
  auto m = MakeMarket();
  AlibabaRunRequest r = Limit(0.2);
  r.spot_price_limit.reset();
  Result<std::vector<std::string>> ids = m->alibaba().RunInstances(r, cause::kUser);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(Code(ids.status()), kAliMissingSpotPriceLimit);
  EXPECT_NE(ids.status().message().find("SpotWithPriceLimit"), std::string::npos);
  EXPECT_TRUE(m->instances().empty());
}

TEST(AlibabaTest, CreateSpotPriceLimitAbovePayAsYouGoRefused) {
  auto m = MakeMarket();
  for (double bad : {1.53, 0.0, -0.1, std::nan("")}) {
    Result<std::vector<std::string>> ids = m->alibaba().RunInstances(Limit(bad), cause::kUser);
    ASSERT_FALSE(ids.ok()) << bad;
    EXPECT_EQ(Code(ids.status()), kAliInvalidSpotPriceLimit) << bad;
  }
  Result<std::vector<std::string>> over = m->alibaba().RunInstances(Limit(2.0), cause::kUser);
  EXPECT_NE(over.status().message().find("pay-as-you-go price 1.5200"), std::string::npos)
      << over.status().message();
  EXPECT_TRUE(m->instances().empty());
  EXPECT_TRUE(m->alibaba().RunInstances(Limit(1.52), cause::kUser).ok());  // equal is allowed
}

TEST(AlibabaTest, CreateBidBelowMarketPriceRefusedLowerThanPublicPrice) {
  auto m = MakeMarket();
  Result<std::vector<std::string>> ids = m->alibaba().RunInstances(Limit(0.151), cause::kUser);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(Code(ids.status()), kAliLowerThanPublicPrice);
  EXPECT_NE(ids.status().message().find("market price 0.1520"), std::string::npos);
  EXPECT_TRUE(m->instances().empty());
  // Bid == market price is enough (Alibaba: "higher than or equal to").
  EXPECT_TRUE(m->alibaba().RunInstances(Limit(0.152), cause::kUser).ok());
  // Without protection the market price is 10% lower: 0.152 x 0.9 = 0.1368.
  EXPECT_TRUE(m->alibaba().RunInstances(Limit(0.1368, 0), cause::kUser).ok());
  EXPECT_EQ(Code(m->alibaba().RunInstances(Limit(0.1367, 0), cause::kUser).status()),
            kAliLowerThanPublicPrice);
}

TEST(AlibabaTest, CreateNoStockRefusedAllOrNothing) {
  auto m = MakeMarket(7, /*capacity=*/2);
  AlibabaRunRequest r = AsPriceGo();
  r.amount = 3;
  Result<std::vector<std::string>> ids = m->alibaba().RunInstances(r, cause::kUser);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(Code(ids.status()), kAliNoStock);
  EXPECT_EQ(ids.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(ids.status().message().find("2 free"), std::string::npos) << ids.status().message();
  EXPECT_TRUE(m->instances().empty());
  EXPECT_EQ(m->catalog().pool(0).spot_running, 0);
  r.amount = 2;
  r.name = "web";
  ids = m->alibaba().RunInstances(r, cause::kUser);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 2u);
  EXPECT_EQ(m->FindInstance((*ids)[1])->name, "web-2");
  EXPECT_EQ(Code(m->alibaba().RunInstances(AsPriceGo(), cause::kUser).status()), kAliNoStock);
}

TEST(AlibabaTest, CreateBadParametersSayWhatIsWrong) {
  auto m = MakeMarket();
  auto code = [&](const AlibabaRunRequest& r) {
    return std::string(Code(m->alibaba().RunInstances(r, cause::kUser).status()));
  };
  AlibabaRunRequest r = AsPriceGo();
  r.spot_duration = 2;
  EXPECT_EQ(code(r), kAliInvalidSpotDuration);
  r = AsPriceGo();
  r.zone = "cn-nowhere-z";
  EXPECT_EQ(code(r), kAliInvalidZone);
  r = AsPriceGo();
  r.instance_type = "ecs.nope";
  EXPECT_EQ(code(r), kAliInvalidType);
  r = AsPriceGo();
  r.zone = "cn-hangzhou-k";  // a zone without a pool for the type
  EXPECT_EQ(code(r), kAliTypeNotInZone);
  r = AsPriceGo();
  r.amount = 0;
  EXPECT_EQ(code(r), kAliInvalidAmount);
  r.amount = 101;
  EXPECT_EQ(code(r), kAliInvalidAmount);
  EXPECT_TRUE(m->instances().empty());
  // NoSpot needs no pool.
  r = NoSpot();
  r.zone = "cn-hangzhou-k";
  EXPECT_TRUE(m->alibaba().RunInstances(r, cause::kUser).ok());
  EXPECT_EQ(Code(ParseSpotStrategy("SpotCheap").status()), kAliInvalidSpotStrategy);
  EXPECT_EQ(Code(ParseSpotInterruptionBehavior("Hibernate").status()),
            kAliInvalidInterruptionBehavior);
  EXPECT_EQ(Code(ParseStoppedMode("Sleep").status()), kAliInvalidStoppedMode);
  EXPECT_EQ(*ParseSpotStrategy("SpotWithPriceLimit"), SpotStrategy::kSpotWithPriceLimit);
}

TEST(AlibabaTest, BidFixedAfterCreation) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(0.2));
  // The market rises above the bid: the bid does not follow.
  PriceAt(*m, minutes(30), 0.25);
  Go(*m, minutes(59));
  EXPECT_DOUBLE_EQ(m->alibaba().Describe(id)->spot_price_limit, 0.2);
  Go(*m, hours(1));
  std::optional<Event> notice = Find(*m, id, "To Be Released");
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->cause, cause::kPrice);
  EXPECT_NE(notice->detail.find("market price 0.2500 > bid 0.2000"), std::string::npos);
}

// --- 2. Protection period ------------------------------------------------------------------

TEST(AlibabaTest, ProtectionPeriodNeverRecycledInFirstHour) {
  auto m = MakeMarket(7, 2);
  const std::string by_price = Launch(*m, Limit(0.2));
  const std::string by_stock = Launch(*m, AsPriceGo());
  PriceAt(*m, minutes(1), 1.0);
  CapacityAt(*m, minutes(1), 0);
  Go(*m, hours(1) - milliseconds(1));
  EXPECT_FALSE(Find(*m, by_price, "To Be Released"));
  EXPECT_FALSE(Find(*m, by_stock, "To Be Released"));
  EXPECT_FALSE(m->Metadata(by_price)->termination_time);
  Go(*m, hours(1));
  std::optional<Event> p = Find(*m, by_price, "To Be Released");
  std::optional<Event> s = Find(*m, by_stock, "To Be Released");
  ASSERT_TRUE(p && s);
  EXPECT_EQ(p->time, m->start() + hours(1));
  EXPECT_EQ(p->cause, cause::kPrice);
  EXPECT_EQ(s->time, m->start() + hours(1));
  EXPECT_EQ(s->cause, cause::kCapacity);
}

TEST(AlibabaTest, ProtectionPeriodZeroHasNoneAndIsTenPercentCheaper) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(0.2, 0));
  EXPECT_DOUBLE_EQ(m->alibaba().Describe(id)->creation_price, 0.1368);
  EXPECT_EQ(m->alibaba().Describe(id)->protection_end, m->start());
  PriceAt(*m, minutes(1), 0.3);  // 0.27 for it, above its bid
  Go(*m, minutes(5));
  std::optional<Event> notice = Find(*m, id, "To Be Released");
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->time, m->start() + minutes(5));  // the first 5-minute check
}

// --- 3. Recycling check --------------------------------------------------------------------

TEST(AlibabaTest, RecycleCheckEveryFiveMinutesAfterProtection) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(0.2));
  PriceAt(*m, hours(1) + minutes(7), 0.25);
  Go(*m, hours(1) + minutes(10) - milliseconds(1));
  EXPECT_FALSE(Find(*m, id, "To Be Released"));
  Go(*m, hours(1) + minutes(10));
  std::optional<Event> notice = Find(*m, id, "To Be Released");
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->time, m->start() + hours(1) + minutes(10));
  // A short spike between two checks goes unnoticed.
  auto m2 = MakeMarket();
  const std::string id2 = Launch(*m2, Limit(0.2));
  PriceAt(*m2, hours(1) + minutes(1), 0.25);
  PriceAt(*m2, hours(1) + minutes(4), 0.15);
  Go(*m2, hours(3));
  EXPECT_FALSE(Find(*m2, id2, "To Be Released"));
}

TEST(AlibabaTest, RecycleCheckPriceEqualToBidIsKept) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(0.2));
  const std::string unprotected = Launch(*m, Limit(0.18, 0));
  PriceAt(*m, minutes(30), 0.2);  // 0.18 for the unprotected one
  Go(*m, hours(5));
  EXPECT_FALSE(Find(*m, id, "To Be Released"));
  EXPECT_FALSE(Find(*m, unprotected, "To Be Released"));
  ASSERT_TRUE(m->SetSpotPrice(kPool, 0.2001, cause::kUser).ok());
  Go(*m, hours(5) + minutes(5));
  EXPECT_TRUE(Find(*m, id, "To Be Released"));
  EXPECT_TRUE(Find(*m, unprotected, "To Be Released"));  // 0.9 x 0.2001 = 0.1801 > 0.18
}

TEST(AlibabaTest, RecycleCheckReleasesFiveMinutesAfterNotice) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(0.2));
  PriceAt(*m, minutes(30), 0.25);
  Go(*m, hours(1));
  const WallTime release = m->start() + hours(1) + minutes(5);
  Result<MetadataView> md = m->Metadata(id);
  ASSERT_TRUE(md.ok());
  ASSERT_TRUE(md->termination_time);
  EXPECT_EQ(*md->termination_time, release);
  Result<AlibabaInstanceInfo> info = m->alibaba().Describe(id);
  EXPECT_EQ(info->operation_locks, std::vector<std::string>{"Recycling"});
  EXPECT_EQ(info->status, "Running");
  Go(*m, hours(1) + minutes(5) - milliseconds(1));
  EXPECT_EQ(StateOf(*m, id), InstanceState::kRunning);
  EXPECT_EQ(m->catalog().pool(0).spot_running, 1);
  Go(*m, hours(1) + minutes(5));
  EXPECT_EQ(StateOf(*m, id), InstanceState::kTerminated);
  EXPECT_EQ(*m->FindInstance(id)->end_time, release);
  EXPECT_EQ(m->catalog().pool(0).spot_running, 0);
  std::optional<Event> gone = Find(*m, id, "terminated");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->cause, cause::kPrice);
  EXPECT_EQ(m->alibaba().Describe(id)->status, "Released");
  EXPECT_EQ(Code(m->alibaba().StopInstance(id, StoppedMode::kKeepCharging, cause::kUser)),
            kAliInstanceNotFound);
}

TEST(AlibabaTest, RecycleCheckStopBehaviorStopsInsteadOfRelease) {
  auto m = MakeMarket();
  AlibabaRunRequest r = Limit(0.2);
  r.interruption_behavior = SpotInterruptionBehavior::kStop;
  const std::string id = Launch(*m, r);
  PriceAt(*m, minutes(30), 0.25);
  Go(*m, hours(2));
  EXPECT_EQ(StateOf(*m, id), InstanceState::kStopped);
  Result<AlibabaInstanceInfo> info = m->alibaba().Describe(id);
  EXPECT_EQ(info->status, "Stopped");
  EXPECT_EQ(info->stopped_mode, "StopCharging");
  EXPECT_TRUE(info->operation_locks.empty());
  EXPECT_FALSE(info->termination_time);
  EXPECT_EQ(m->catalog().pool(0).spot_running, 0);
  std::optional<Event> stopped = Find(*m, id, "stopped");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->time, m->start() + hours(1) + minutes(5));
  EXPECT_EQ(stopped->cause, cause::kPrice);
}

// --- 4. Who goes first on a stock shortage --------------------------------------------------

TEST(AlibabaTest, StockShortageLowestBidFirstTiesSeeded) {
  std::map<uint64_t, std::string> tie_loser;  // seed -> which equal bid went first
  std::set<bool> by_id;                       // did the lower instance id go first?
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    for (int replay = 0; replay < 2; ++replay) {
      auto m = MakeMarket(seed, 5);
      std::map<std::string, std::string> by_name;
      for (auto [name, bid] :
           {std::pair{"low", 0.2}, std::pair{"tie-a", 0.3}, std::pair{"tie-b", 0.3},
            std::pair{"high", 0.4}, std::pair{"top", 0.5}}) {
        by_name[name] = Launch(*m, Limit(bid, 1, name));
      }
      CapacityAt(*m, minutes(10), 3);  // two too many
      Go(*m, hours(3));
      std::vector<std::string> victims;
      for (const Event& e : m->log().all()) {
        if (e.new_state != "To Be Released") continue;
        EXPECT_EQ(e.cause, cause::kCapacity);
        EXPECT_EQ(e.time, m->start() + hours(1));
        victims.push_back(m->FindInstance(e.id)->name);
      }
      ASSERT_EQ(victims.size(), 2u) << "only as many as the shortage";
      EXPECT_TRUE(std::count(victims.begin(), victims.end(), "low"));
      const std::string loser =
          std::count(victims.begin(), victims.end(), "tie-a") ? "tie-a" : "tie-b";
      const std::string other = loser == "tie-a" ? "tie-b" : "tie-a";
      if (replay == 0) {
        tie_loser[seed] = loser;
        by_id.insert(by_name[loser] < by_name[other]);
      } else {
        EXPECT_EQ(tie_loser[seed], loser) << "same seed, same victim";
      }
      EXPECT_EQ(m->catalog().pool(0).spot_running, 3);
      EXPECT_EQ(StateOf(*m, by_name["high"]), InstanceState::kRunning);
      EXPECT_EQ(StateOf(*m, by_name["top"]), InstanceState::kRunning);
    }
  }
  std::set<std::string> seen;
  for (const auto& [seed, loser] : tie_loser) seen.insert(loser);
  EXPECT_EQ(seen.size(), 2u) << "equal bids go in a seeded random order, not creation order";
  EXPECT_EQ(by_id.size(), 2u) << "equal bids go in a seeded random order, not id order";
}

TEST(AlibabaTest, StockShortageProtectedInstancesAreSkipped) {
  auto m = MakeMarket(7, 2);
  const std::string old_low = Launch(*m, Limit(0.2));
  std::string young_lower;
  At(*m, minutes(40), [&young_lower](World& mk) {
    Result<std::vector<std::string>> ids = mk.alibaba().RunInstances(Limit(0.16), cause::kUser);
    if (ids.ok()) young_lower = ids->front();
    return ids.status();
  });
  CapacityAt(*m, minutes(50), 1);
  Go(*m, hours(1));
  // The lower bid is still protected (until 1h40m), so the old one goes.
  ASSERT_TRUE(Find(*m, old_low, "To Be Released"));
  Go(*m, hours(3));
  EXPECT_FALSE(Find(*m, young_lower, "To Be Released"));
  EXPECT_EQ(m->catalog().pool(0).spot_running, 1);
}

TEST(AlibabaTest, SpotAsPriceGoNeverRecycledForPriceFirstForStock) {
  {
    auto m = MakeMarket();
    const std::string go = Launch(*m, AsPriceGo());
    const std::string limited = Launch(*m, Limit(0.5));
    PriceAt(*m, minutes(10), 1.52);  // as high as it can go: pay-as-you-go
    Go(*m, hours(4));
    EXPECT_EQ(StateOf(*m, go), InstanceState::kRunning);
    EXPECT_FALSE(Find(*m, go, "To Be Released"));
    EXPECT_EQ(Find(*m, limited, "To Be Released")->cause, cause::kPrice);
  }
  {
    auto m = MakeMarket(7, 3);
    const std::string b = Launch(*m, Limit(0.16));
    const std::string go = Launch(*m, AsPriceGo());  // bids the market price, 0.152 < 0.16
    const std::string c = Launch(*m, Limit(0.2));
    CapacityAt(*m, minutes(10), 2);
    Go(*m, hours(3));
    EXPECT_EQ(Find(*m, go, "To Be Released")->cause, cause::kCapacity);
    EXPECT_FALSE(Find(*m, b, "To Be Released"));
    EXPECT_FALSE(Find(*m, c, "To Be Released"));
  }
}

// --- 6. Stop and restart (Alibaba's table) ------------------------------------------------------

TEST(AlibabaTest, StopKeepChargingKeepsTheSlotStopChargingGivesItBack) {
  auto m = MakeMarket();
  const std::string keep = Launch(*m, AsPriceGo());
  const std::string give = Launch(*m, AsPriceGo());
  ASSERT_TRUE(m->alibaba().StopInstance(keep, StoppedMode::kKeepCharging, cause::kUser).ok());
  ASSERT_TRUE(m->alibaba().StopInstance(give, StoppedMode::kStopCharging, cause::kUser).ok());
  EXPECT_EQ(m->catalog().pool(0).spot_running, 1);
  EXPECT_EQ(m->alibaba().Describe(keep)->stopped_mode, "KeepCharging");
  EXPECT_EQ(m->alibaba().Describe(give)->stopped_mode, "StopCharging");
  EXPECT_EQ(Code(m->alibaba().StopInstance(keep, StoppedMode::kKeepCharging, cause::kUser)),
            kAliIncorrectStatus);
  EXPECT_EQ(Find(*m, give, "stopped")->detail, "StoppedMode=StopCharging");
}

TEST(AlibabaTest, RestartInsideProtectionKeepChargingAlwaysSucceeds) {
  auto m = MakeMarket(7, 1);
  const std::string id = Launch(*m, Limit(0.2));
  ASSERT_TRUE(m->alibaba().StopInstance(id, StoppedMode::kKeepCharging, cause::kUser).ok());
  ASSERT_TRUE(m->SetSpotPrice(kPool, 0.5, cause::kUser).ok());  // above the bid
  ASSERT_TRUE(m->SetCapacity(kPool, 0, cause::kUser).ok());     // and no stock
  Go(*m, minutes(30));
  EXPECT_TRUE(m->alibaba().StartInstance(id, cause::kUser).ok());
  EXPECT_EQ(StateOf(*m, id), InstanceState::kRunning);
}

TEST(AlibabaTest, RestartInsideProtectionStopChargingNeedsStock) {
  auto m = MakeMarket(7, 1);
  const std::string a = Launch(*m, Limit(0.2));
  ASSERT_TRUE(m->alibaba().StopInstance(a, StoppedMode::kStopCharging, cause::kUser).ok());
  const std::string b = Launch(*m, AsPriceGo());                // takes the slot a gave back
  ASSERT_TRUE(m->SetSpotPrice(kPool, 0.5, cause::kUser).ok());  // price does not matter yet
  Status s = m->alibaba().StartInstance(a, cause::kUser);
  EXPECT_EQ(Code(s), kAliNoStock);
  EXPECT_EQ(StateOf(*m, a), InstanceState::kStopped);
  ASSERT_TRUE(m->alibaba().DeleteInstance(b, true, cause::kUser).ok());
  EXPECT_TRUE(m->alibaba().StartInstance(a, cause::kUser).ok());
  EXPECT_EQ(m->catalog().pool(0).spot_running, 1);
}

TEST(AlibabaTest, RestartAfterProtectionPriceLimitNeedsBidAndStock) {
  auto m = MakeMarket(7, 1);
  const std::string a = Launch(*m, Limit(0.2));
  ASSERT_TRUE(m->alibaba().StopInstance(a, StoppedMode::kStopCharging, cause::kUser).ok());
  ASSERT_TRUE(m->SetSpotPrice(kPool, 0.25, cause::kUser).ok());
  Go(*m, hours(2));
  EXPECT_EQ(Code(m->alibaba().StartInstance(a, cause::kUser)), kAliLowerThanPublicPrice);
  ASSERT_TRUE(m->SetSpotPrice(kPool, 0.2, cause::kUser).ok());  // bid == market: fine
  ASSERT_TRUE(m->SetCapacity(kPool, 0, cause::kUser).ok());
  EXPECT_EQ(Code(m->alibaba().StartInstance(a, cause::kUser)), kAliNoStock);
  ASSERT_TRUE(m->SetCapacity(kPool, 1, cause::kUser).ok());
  EXPECT_TRUE(m->alibaba().StartInstance(a, cause::kUser).ok());
}

TEST(AlibabaTest, RestartAfterProtectionKeepChargingPriceLimitNeedsBid) {
  auto m = MakeMarket(7, 1);
  const std::string a = Launch(*m, Limit(0.2));
  At(*m, hours(1) + minutes(1),
     [&a](World& mk) { return mk.alibaba().StopInstance(a, StoppedMode::kKeepCharging, "user"); });
  // Between two checks the price passes the bid: the start is refused before any recycle.
  PriceAt(*m, hours(1) + minutes(2), 0.25);
  Go(*m, hours(1) + minutes(3));
  EXPECT_EQ(Code(m->alibaba().StartInstance(a, cause::kUser)), kAliLowerThanPublicPrice);
  // The stopped KeepCharging instance is still checked: recycled at the next check.
  Go(*m, hours(1) + minutes(5));
  EXPECT_EQ(Find(*m, a, "To Be Released")->old_state, "stopped");
  EXPECT_EQ(Code(m->alibaba().StartInstance(a, cause::kUser)), kAliIncorrectStatus);
}

TEST(AlibabaTest, RestartAfterProtectionAsPriceGoNeedsOnlyStock) {
  auto m = MakeMarket(7, 1);
  const std::string a = Launch(*m, AsPriceGo());
  ASSERT_TRUE(m->alibaba().StopInstance(a, StoppedMode::kStopCharging, cause::kUser).ok());
  ASSERT_TRUE(m->SetSpotPrice(kPool, 1.5, cause::kUser).ok());
  ASSERT_TRUE(m->SetCapacity(kPool, 0, cause::kUser).ok());
  Go(*m, hours(2));
  EXPECT_EQ(Code(m->alibaba().StartInstance(a, cause::kUser)), kAliNoStock);
  ASSERT_TRUE(m->SetCapacity(kPool, 1, cause::kUser).ok());
  EXPECT_TRUE(m->alibaba().StartInstance(a, cause::kUser).ok());
  // The recycling grid resumes: creation + 1h + k * 5 min.
  ASSERT_TRUE(m->SetCapacity(kPool, 0, cause::kUser).ok());
  Go(*m, hours(2) + minutes(5));
  std::optional<Event> notice = Find(*m, a, "To Be Released");
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->time, m->start() + hours(2));
}

// --- 7. Release --------------------------------------------------------------------------------

TEST(AlibabaTest, ReleaseByUserAtAnyTime) {
  auto m = MakeMarket();
  const std::string a = Launch(*m, Limit(0.2));
  Status s = m->alibaba().DeleteInstance(a, false, cause::kUser);
  EXPECT_EQ(Code(s), kAliIncorrectStatus);
  EXPECT_NE(s.message().find("Force=true"), std::string::npos);
  EXPECT_TRUE(m->alibaba().DeleteInstance(a, true, cause::kUser).ok());  // inside protection
  EXPECT_EQ(StateOf(*m, a), InstanceState::kTerminated);
  EXPECT_EQ(Code(m->alibaba().DeleteInstance(a, true, cause::kUser)), kAliInstanceNotFound);
  // While To Be Released: released at once, and nothing happens at termination-time.
  const std::string b = Launch(*m, Limit(0.2));
  PriceAt(*m, minutes(1), 0.3);
  Go(*m, hours(1) + minutes(2));
  ASSERT_TRUE(Find(*m, b, "To Be Released"));
  EXPECT_TRUE(m->alibaba().DeleteInstance(b, true, cause::kUser).ok());
  const size_t events = m->log().size();
  Go(*m, hours(2));
  EXPECT_EQ(m->log().size(), events);
  EXPECT_EQ(Find(*m, b, "terminated")->cause, cause::kUser);
  // A stopped instance needs no Force.
  const std::string c = Launch(*m, NoSpot());
  ASSERT_TRUE(m->alibaba().StopInstance(c, StoppedMode::kKeepCharging, cause::kUser).ok());
  EXPECT_TRUE(m->alibaba().DeleteInstance(c, false, cause::kUser).ok());
}

TEST(AlibabaTest, ForcedNoticeIgnoresProtection) {
  auto m = MakeMarket();
  const std::string a = Launch(*m, AsPriceGo());
  Go(*m, minutes(3));
  ASSERT_TRUE(m->alibaba().ForceRecycle(a, cause::kService).ok());
  EXPECT_EQ(*m->Metadata(a)->termination_time, m->start() + minutes(8));
  EXPECT_EQ(Code(m->alibaba().ForceRecycle(a, cause::kService)), kAliIncorrectStatus);
  Go(*m, minutes(8));
  EXPECT_EQ(Find(*m, a, "terminated")->cause, cause::kService);
  EXPECT_TRUE(m->alibaba().Describe(a)->recycled);
  const std::string n = Launch(*m, NoSpot());
  EXPECT_EQ(Code(m->alibaba().ForceRecycle(n, cause::kService)), kAliIncorrectStatus);
}

// --- 5. Billing --------------------------------------------------------------------------------

TEST(AlibabaBillingTest, FirstHourAtCreationPrice) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(1.0));
  PriceAt(*m, minutes(30), 0.5);
  Go(*m, hours(2));
  // First hour at 0.152 (the price at creation), the second at the real-time 0.5.
  Result<AlibabaBill> b = m->alibaba().Bill(id);
  EXPECT_NEAR(b->raw_cost, 0.152 + 0.5, 1e-9);
  EXPECT_DOUBLE_EQ(b->charged, 0.65);  // rounded to two decimals
  EXPECT_DOUBLE_EQ(b->billed_seconds, 7200);
}

TEST(AlibabaBillingTest, NoProtectionRealTimePriceTenPercentOff) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, Limit(1.0, 0));
  PriceAt(*m, minutes(30), 0.3);
  Go(*m, hours(1));
  EXPECT_NEAR(m->alibaba().Bill(id)->raw_cost, 0.9 * (0.152 / 2 + 0.3 / 2), 1e-9);
  EXPECT_DOUBLE_EQ(m->alibaba().Bill(id)->charged, 0.2);  // 0.2034
}

TEST(AlibabaBillingTest, PerSecondUnderOneCentNotCharged) {
  auto m = MakeMarket();
  const std::string id = Launch(*m, AsPriceGo());
  Go(*m, seconds(236));  // 0.152 * 236 / 3600 = 0.009964
  EXPECT_NEAR(m->alibaba().Bill(id)->raw_cost, 0.152 * 236 / 3600, 1e-12);
  EXPECT_DOUBLE_EQ(m->alibaba().Bill(id)->charged, 0.0);
  Go(*m, seconds(237));  // 0.010007
  EXPECT_DOUBLE_EQ(m->alibaba().Bill(id)->charged, 0.01);
}

TEST(AlibabaBillingTest, KeepChargingBillsWhileStoppedStopChargingDoesNot) {
  auto m = MakeMarket();
  const std::string keep = Launch(*m, AsPriceGo());
  const std::string stop = Launch(*m, AsPriceGo());
  At(*m, minutes(10), [&](World& mk) {
    LASTCALL_RETURN_IF_ERROR(mk.alibaba().StopInstance(keep, StoppedMode::kKeepCharging, "user"));
    return mk.alibaba().StopInstance(stop, StoppedMode::kStopCharging, "user");
  });
  At(*m, minutes(40), [&](World& mk) {
    LASTCALL_RETURN_IF_ERROR(mk.alibaba().StartInstance(keep, "user"));
    return mk.alibaba().StartInstance(stop, "user");
  });
  Go(*m, hours(1));
  EXPECT_NEAR(m->alibaba().Bill(keep)->raw_cost, 0.152, 1e-9);
  EXPECT_NEAR(m->alibaba().Bill(stop)->raw_cost, 0.152 / 2, 1e-9);
  EXPECT_DOUBLE_EQ(m->alibaba().Bill(stop)->billed_seconds, 1800);
  EXPECT_DOUBLE_EQ(m->alibaba().AccountCharged(), 0.15 + 0.08);
}

TEST(AlibabaBillingTest, EndsAtReleaseNoSpotAtPayAsYouGo) {
  auto m = MakeMarket();
  const std::string n = Launch(*m, NoSpot());
  const std::string s = Launch(*m, AsPriceGo());
  At(*m, hours(1), [&](World& mk) { return mk.alibaba().DeleteInstance(s, true, "user"); });
  Go(*m, hours(3));
  EXPECT_NEAR(m->alibaba().Bill(n)->raw_cost, 3 * 1.52, 1e-9);
  EXPECT_NEAR(m->alibaba().Bill(s)->raw_cost, 0.152, 1e-9);
  EXPECT_EQ(Code(m->alibaba().Bill("i-nope").status()), kAliInstanceNotFound);
}

// --- 7. Release-rate statistics (DescribeSpotAdvice) -------------------------------------------

TEST(AlibabaTest, SpotAdviceInterruptionRateBucketsAndDiscount) {
  EXPECT_EQ(InterruptRateBucket(0.0), "0-3%");
  EXPECT_EQ(InterruptRateBucket(0.0299), "0-3%");
  EXPECT_EQ(InterruptRateBucket(0.03), "3-5%");
  EXPECT_EQ(InterruptRateBucket(0.05), "5-10%");
  EXPECT_EQ(InterruptRateBucket(0.0999), "5-10%");
  EXPECT_EQ(InterruptRateBucket(0.10), "10-100%");
  EXPECT_EQ(InterruptRateBucket(1.0), "10-100%");
  auto m = MakeMarket(7, 20);
  std::vector<std::string> ids;
  ids.reserve(20);
  for (int i = 0; i < 19; ++i) ids.push_back(Launch(*m, Limit(1.0)));
  ids.push_back(Launch(*m, Limit(0.16)));  // recycled when the price reaches 0.304 (half the day)
  PriceAt(*m, hours(12), 0.304);
  Go(*m, hours(24));
  std::vector<AlibabaSpotAdvice> advice = m->alibaba().DescribeSpotAdvice(kZone, kType);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_EQ(advice[0].instances, 20);
  EXPECT_EQ(advice[0].recycled, 1);
  EXPECT_DOUBLE_EQ(advice[0].interruption_rate, 0.05);
  EXPECT_EQ(advice[0].interrupt_rate_desc, "5-10%");
  EXPECT_NEAR(advice[0].average_spot_price, (0.152 + 0.304) / 2, 1e-9);
  EXPECT_EQ(advice[0].average_spot_discount, 15);  // 0.228 is 15% of 1.52
  EXPECT_TRUE(m->alibaba().DescribeSpotAdvice("cn-hangzhou-k").empty());
}

// --- Metadata and the event log ------------------------------------------------------------------

TEST(AlibabaTest, MetadataTerminationTimeAndIdentity) {
  auto m = MakeMarket();
  AlibabaRunRequest r = Limit(0.2, 1, "render-1");
  const std::string id = Launch(*m, r);
  const std::string other = Launch(*m, AsPriceGo());
  Result<MetadataView> v = m->Metadata(id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->flavor, FlavorKind::kAlibaba);
  EXPECT_EQ(v->instance_id.size(), 22u);  // "i-" + 20
  EXPECT_EQ(v->name, "render-1");
  EXPECT_EQ(v->instance_type, kType);
  EXPECT_EQ(v->zone, kZone);
  EXPECT_EQ(v->region, "cn-hangzhou");
  EXPECT_EQ(v->instance_life_cycle, "spot");
  EXPECT_EQ(v->vpc_id.rfind("vpc-", 0), 0u);
  EXPECT_EQ(v->vswitch_id.rfind("vsw-", 0), 0u);
  EXPECT_EQ(v->serial_number.size(), 36u);
  EXPECT_FALSE(v->termination_time);
  // Same VPC and vSwitch in one zone, a distinct serial number.
  EXPECT_EQ(m->Metadata(other)->vpc_id, v->vpc_id);
  EXPECT_EQ(m->Metadata(other)->vswitch_id, v->vswitch_id);
  EXPECT_NE(m->Metadata(other)->serial_number, v->serial_number);
  EXPECT_EQ(m->Metadata(other)->name, other);  // Alibaba's default InstanceName is the id
  PriceAt(*m, minutes(1), 0.3);
  Go(*m, hours(1));
  EXPECT_EQ(FormatRfc3339(*m->Metadata(id)->termination_time), "2026-04-07T01:05:00Z");
}

TEST(AlibabaTest, EventLogEveryChangeHasItsCause) {
  auto m = MakeMarket(7, 2);
  const std::string a = Launch(*m, Limit(0.2));
  const std::string b = Launch(*m, AsPriceGo());
  At(*m, minutes(5),
     [&](World& mk) { return mk.alibaba().StopInstance(b, StoppedMode::kKeepCharging, "user"); });
  At(*m, minutes(6), [&](World& mk) { return mk.alibaba().StartInstance(b, "user"); });
  PriceAt(*m, minutes(20), 0.3);
  CapacityAt(*m, minutes(20), 0);
  Go(*m, hours(2));
  std::vector<std::string> seen;
  for (const std::string& id : {a, b}) {
    for (const Event& e : EventsOf(*m, id)) {
      EXPECT_EQ(e.kind, kind::kInstance);
      EXPECT_FALSE(e.cause.empty()) << e.new_state;
      seen.push_back(e.new_state + "/" + e.cause);
    }
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"running/user", "To Be Released/price", "terminated/price",
                                      "running/user", "stopped/user", "running/user",
                                      "To Be Released/capacity", "terminated/capacity"}));
}

// --- Scenario files ------------------------------------------------------------------------------

// The catalog every scenario test here starts from.
std::string Catalog() {
  return ScenarioBuilder()
      .Seed(5)
      .Alibaba()
      .Pool("ecs.c5.8xlarge", "cn-hangzhou-b", 4, 0.152)
      .Text();
}

void ExpectLoadError(const std::string& alibaba, const std::vector<std::string>& parts) {
  auto m = LoadScenarioText(Catalog() + alibaba, "ali.toml");
  ASSERT_FALSE(m.ok()) << alibaba;
  for (const std::string& p : parts) {
    EXPECT_NE(m.status().message().find(p), std::string::npos)
        << "\"" << p << "\" not in: " << m.status().message();
  }
}

TEST(AlibabaScenarioTest, InstancesAndActions) {
  const std::string text = Catalog() + R"(
[[alibaba.instance]]
name = "cheap"
zone = "cn-hangzhou-b"
type = "ecs.c5.8xlarge"
spot_strategy = "SpotWithPriceLimit"
spot_price_limit = 0.2
[[alibaba.instance]]
name = "later"
zone = "cn-hangzhou-b"
type = "ecs.c5.8xlarge"
spot_strategy = "SpotAsPriceGo"
spot_duration = 0
interruption_behavior = "Stop"
count = 2
at = "30m"
[[alibaba.action]]
at = "40m"
kind = "stop"
instance = "later-1"
stopped_mode = "StopCharging"
[[alibaba.action]]
at = "50m"
kind = "start"
instance = "later-1"
[[alibaba.action]]
at = "55m"
kind = "interrupt"
instance = "later-2"
[[alibaba.action]]
at = "2h"
kind = "release"
instance = "cheap"
)";
  auto loaded = LoadScenarioText(text, "ali.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  World& m = **loaded;
  ASSERT_EQ(m.instances().size(), 1u);  // "cheap" exists at load time
  const Instance& cheap = m.instances().begin()->second;
  EXPECT_EQ(cheap.name, "cheap");
  ASSERT_TRUE(m.AdvanceTo(m.start() + hours(3)).ok());
  std::map<std::string, std::string> id;
  for (const auto& [i, inst] : m.instances()) id[inst.name] = i;
  ASSERT_EQ(id.size(), 3u);
  EXPECT_EQ(m.alibaba().Describe(id["later-1"])->spot_duration, 0);
  EXPECT_EQ(Find(m, id["later-1"], "stopped")->time, m.start() + minutes(40));
  EXPECT_EQ(StateOf(m, id["later-1"]), InstanceState::kRunning);
  EXPECT_EQ(Find(m, id["later-2"], "To Be Released")->time, m.start() + minutes(55));
  EXPECT_EQ(StateOf(m, id["later-2"]), InstanceState::kStopped);  // interruption_behavior Stop
  EXPECT_EQ(Find(m, id["cheap"], "terminated")->cause, cause::kSchedule);
  for (const Event& e : m.log().all()) EXPECT_NE(e.kind, kind::kAction) << e.detail;
}

TEST(AlibabaScenarioTest, ErrorsNameFileLineAndKey) {
  const std::string inst =
      "[[alibaba.instance]]\nzone = \"cn-hangzhou-b\"\ntype = \"ecs.c5.8xlarge\"\n";
  ExpectLoadError("[alibaba]\nfoo = 1\n", {"ali.toml:", "alibaba.foo", "unknown key"});
  ExpectLoadError(inst + "spot_strategy = \"Cheap\"\n",
                  {"alibaba.instance[0].spot_strategy", "not one of"});
  ExpectLoadError(inst + "spot_price_limit = 0.2\n",
                  {"alibaba.instance[0].spot_price_limit", "only allowed with"});
  ExpectLoadError(inst + "spot_strategy = \"SpotWithPriceLimit\"\n",
                  {"alibaba.instance[0]", "SpotPriceLimit is required"});
  ExpectLoadError(inst + "spot_strategy = \"SpotWithPriceLimit\"\nspot_price_limit = 2.0\n",
                  {"alibaba.instance[0]", "pay-as-you-go"});
  ExpectLoadError(inst + "spot_strategy = \"SpotWithPriceLimit\"\nspot_price_limit = 0.1\n",
                  {"ali.toml:", "alibaba.instance[0]", "lower than the market price"});
  ExpectLoadError(inst + "spot_strategy = \"SpotAsPriceGo\"\ncount = 5\n",
                  {"alibaba.instance[0]", "no stock"});
  ExpectLoadError(inst + "spot_duration = 3\n", {"alibaba.instance[0].spot_duration", "0 or 1"});
  ExpectLoadError(inst + "name = \"a\"\n" + inst + "name = \"a\"\n",
                  {"alibaba.instance[1].name", "used twice"});
  ExpectLoadError(inst +
                      "name = \"a\"\n[[alibaba.action]]\nat = \"1h\"\nkind = \"release\"\n"
                      "instance = \"b\"\n",
                  {"alibaba.action[0].instance", "no [[alibaba.instance]] is named \"b\""});
  ExpectLoadError(inst +
                      "name = \"a\"\nat = \"2h\"\n[[alibaba.action]]\nat = \"1h\"\n"
                      "kind = \"stop\"\ninstance = \"a\"\n",
                  {"alibaba.action[0].at", "before instance \"a\" is created"});
  ExpectLoadError(inst +
                      "name = \"a\"\n[[alibaba.action]]\nat = \"1h\"\nkind = \"reboot\"\n"
                      "instance = \"a\"\n",
                  {"alibaba.action[0].kind", "not one of"});
  ExpectLoadError(inst +
                      "name = \"a\"\n[[alibaba.action]]\nat = \"1h\"\nkind = \"start\"\n"
                      "instance = \"a\"\nstopped_mode = \"StopCharging\"\n",
                  {"alibaba.action[0].stopped_mode", "unknown key"});
}

TEST(AlibabaScenarioTest, LaterFailuresAreLoggedAndTheRunGoesOn) {
  const std::string text = Catalog() + R"(
[[alibaba.instance]]
name = "late"
zone = "cn-hangzhou-b"
type = "ecs.c5.8xlarge"
spot_strategy = "SpotWithPriceLimit"
spot_price_limit = 0.2
at = "1h"
[[action]]
at = "30m"
kind = "set_price"
pool = "ecs.c5.8xlarge@cn-hangzhou-b"
price = 0.3
)";
  auto loaded = LoadScenarioText(text, "ali.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE((*loaded)->AdvanceTo((*loaded)->start() + hours(2)).ok());
  const Event& last = (*loaded)->log().all().back();
  EXPECT_EQ(last.kind, kind::kAction);
  EXPECT_EQ(last.new_state, "failed");
  EXPECT_NE(last.detail.find("InvalidSpotPriceLimit.LowerThanPublicPrice"), std::string::npos);
  EXPECT_TRUE((*loaded)->instances().empty());
}

std::unique_ptr<World> LoadShipped(const std::string& name) {
  auto m = LoadScenarioFile(std::string(LASTCALL_MOCK_CORE_SOURCE_DIR) + "/etc/scenarios/" + name);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : nullptr;
}

TEST(AlibabaScenarioTest, ShippedCalmMarketNobodyIsRecycled) {
  auto m = LoadShipped("alibaba-calm-market.toml");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->AdvanceTo(m->start() + hours(24)).ok());
  EXPECT_FALSE(m->alibaba().DescribeAll(false).empty());
  for (const Event& e : m->log().all()) {
    EXPECT_NE(e.new_state, "To Be Released") << e.id;
    EXPECT_NE(e.kind, kind::kAction) << e.detail;
  }
  EXPECT_GT(m->alibaba().AccountCharged(), 0.0);
}

TEST(AlibabaScenarioTest, ShippedPriceSpikeRecyclesByBidOrder) {
  auto m = LoadShipped("alibaba-price-spike-recycles-by-bid.toml");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->AdvanceTo(m->start() + hours(6)).ok());
  std::vector<std::pair<WallTime, double>> notices;  // (time, bid)
  for (const Event& e : m->log().all()) {
    EXPECT_NE(e.kind, kind::kAction) << e.detail;
    if (e.new_state != "To Be Released") continue;
    const AlibabaInstanceInfo info = *m->alibaba().Describe(e.id);
    EXPECT_EQ(info.strategy, SpotStrategy::kSpotWithPriceLimit) << "SpotAsPriceGo stays";
    notices.emplace_back(e.time, info.spot_price_limit);
  }
  ASSERT_GE(notices.size(), 3u);
  // As the price climbs, lower bids go at earlier checks.
  for (size_t i = 1; i < notices.size(); ++i) {
    if (notices[i].first > notices[i - 1].first) {
      EXPECT_GT(notices[i].second, notices[i - 1].second);
    }
  }
  for (const AlibabaInstanceInfo& i : m->alibaba().DescribeAll(true)) {
    if (i.strategy == SpotStrategy::kSpotAsPriceGo) {
      EXPECT_EQ(i.status, "Running");
    }
  }
}

// --- Properties over seeded random markets
// --------------------------------------------------------

// A random Alibaba market: a walking price, capacity changes, instances of every kind created
// at odd seconds (never on a price step), and random stops, starts and releases.
std::unique_ptr<World> RandomMarket(uint64_t seed) {
  MarketOptions o;
  o.seed = seed;
  auto m = std::make_unique<World>(o);
  EXPECT_TRUE(m->AddZone({kZone, "cn-hangzhou"}).ok());
  EXPECT_TRUE(m->AddType({kType, 32, 64, 1.52}).ok());
  PriceModel walk;
  walk.kind = PriceModelKind::kWalk;
  walk.step = minutes(5);
  walk.mean = 0.2;
  walk.floor = 0.1;
  walk.volatility = 0.3;
  EXPECT_TRUE(m->AddPool(kType, kZone, 8, walk, 0.2).ok());
  Rng rng(seed * 7919 + 1);
  for (int i = 0; i < 6; ++i) {
    CapacityAt(*m, minutes(rng.UniformInt(10, 400)) + seconds(rng.UniformInt(0, 59)),
               static_cast<int>(rng.UniformInt(1, 10)));
  }
  for (int i = 0; i < 14; ++i) {
    AlibabaRunRequest r;
    r.zone = kZone;
    r.instance_type = kType;
    const int64_t kind = rng.UniformInt(0, 5);
    r.strategy = kind == 0   ? SpotStrategy::kNoSpot
                 : kind <= 2 ? SpotStrategy::kSpotAsPriceGo
                             : SpotStrategy::kSpotWithPriceLimit;
    if (r.strategy == SpotStrategy::kSpotWithPriceLimit) {
      r.spot_price_limit = 0.2 + static_cast<double>(rng.UniformInt(0, 10)) * 0.01;
    }
    r.spot_duration = static_cast<int>(rng.UniformInt(0, 1));
    r.interruption_behavior = rng.UniformInt(0, 2) == 0 ? SpotInterruptionBehavior::kStop
                                                        : SpotInterruptionBehavior::kTerminate;
    r.name = "r" + std::to_string(i);
    const Duration at = minutes(rng.UniformInt(0, 300)) + seconds(rng.UniformInt(1, 59));
    At(*m, at, [r](World& mk) { return mk.alibaba().RunInstances(r, "user").status(); });
    // Some lives get a stop (either mode), a start and/or a release later on.
    auto find = [name = r.name](World& mk) -> std::string {
      for (const auto& [id, inst] : mk.instances())
        if (inst.name == name) return id;
      return "";
    };
    const Duration stop_at = at + minutes(rng.UniformInt(1, 120));
    const StoppedMode mode =
        rng.UniformInt(0, 1) ? StoppedMode::kStopCharging : StoppedMode::kKeepCharging;
    if (rng.UniformInt(0, 1)) {
      At(*m, stop_at, [find, mode](World& mk) {
        return mk.alibaba().StopInstance(find(mk), mode, cause::kSchedule);
      });
      At(*m, stop_at + minutes(rng.UniformInt(1, 90)),
         [find](World& mk) { return mk.alibaba().StartInstance(find(mk), cause::kSchedule); });
    }
    if (rng.UniformInt(0, 2) == 0) {
      At(*m, at + minutes(rng.UniformInt(1, 400)), [find](World& mk) {
        return mk.alibaba().DeleteInstance(find(mk), true, cause::kSchedule);
      });
    }
  }
  return m;
}

constexpr Duration kHorizon = hours(10);

std::string Dump(World& m) {
  std::ostringstream out;
  for (const Event& e : m.log().all()) {
    out << e.seq << ' ' << FormatRfc3339(e.time) << ' ' << e.kind << ' ' << e.id << ' '
        << e.old_state << " -> " << e.new_state << ' ' << e.cause << ' ' << e.detail << '\n';
  }
  for (const AlibabaInstanceInfo& i : m.alibaba().DescribeAll(true)) {
    out << i.instance_id << ' ' << i.status << ' ' << m.alibaba().Bill(i.instance_id)->raw_cost
        << '\n';
  }
  return out.str();
}

TEST(AlibabaPropertyTest, SameSeedSameEventLog) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto a = RandomMarket(seed);
    auto b = RandomMarket(seed);
    auto c = RandomMarket(seed + 100);
    Go(*a, kHorizon);
    Go(*b, kHorizon);
    Go(*c, kHorizon);
    EXPECT_EQ(Dump(*a), Dump(*b)) << seed;
    EXPECT_NE(Dump(*a), Dump(*c)) << seed;
  }
}

TEST(AlibabaPropertyTest, OneBigAdvanceEqualsManySmall) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto one = RandomMarket(seed);
    auto many = RandomMarket(seed);
    Go(*one, kHorizon);
    Rng steps(seed);
    Duration t(0);
    while (t < kHorizon) {
      t = std::min<Duration>(kHorizon, t + seconds(steps.UniformInt(1, 900)));
      Go(*many, t);
    }
    EXPECT_EQ(Dump(*one), Dump(*many)) << seed;
  }
}

// --- Event-driven recycling checks at scale -------------------------------------------------
// Checks run only while something can recycle an instance (its pool short or its bid below the
// price); these tests hold the engine to the outcome of checking every instance on its whole
// grid: at >= 500 instances in four walking pools whose prices cross many bids, with capacity
// drops, stops and starts, and instances on grid points that coincide with price steps.

constexpr const char* kBigTypes[] = {"ecs.c5.large", "ecs.c5.xlarge", "ecs.g5.large",
                                     "ecs.r5.large"};
constexpr Duration kBigHorizon = hours(8);

std::unique_ptr<World> BigRandomMarket(uint64_t seed) {
  MarketOptions o;
  o.seed = seed;
  auto m = std::make_unique<World>(o);
  EXPECT_TRUE(m->AddZone({kZone, "cn-hangzhou"}).ok());
  PriceModel walk;
  walk.kind = PriceModelKind::kWalk;
  walk.step = minutes(5);
  walk.mean = 0.2;
  walk.floor = 0.1;
  walk.volatility = 0.25;
  for (const char* type : kBigTypes) {
    EXPECT_TRUE(m->AddType({type, 2, 4, 1.0}).ok());
    EXPECT_TRUE(m->AddPool(type, kZone, 160, walk, 0.2).ok());
  }
  Rng rng(seed * 104729 + 3);
  for (const char* type : kBigTypes) {
    const std::string pool = PoolId(type, kZone);
    for (int i = 0; i < 4; ++i) {
      // Half of the drops on a whole minute, so some meet instances' grid points.
      const Duration at = minutes(rng.UniformInt(20, 420)) +
                          (rng.UniformInt(0, 1) ? seconds(0) : seconds(rng.UniformInt(1, 59)));
      const int capacity = static_cast<int>(rng.UniformInt(40, 150));
      At(*m, at,
         [pool, capacity](World& mk) { return mk.SetCapacity(pool, capacity, cause::kSchedule); });
    }
  }
  for (int i = 0; i < 640; ++i) {
    AlibabaRunRequest r;
    r.zone = kZone;
    r.instance_type = kBigTypes[rng.UniformInt(0, 3)];
    r.strategy = rng.UniformInt(0, 2) == 0 ? SpotStrategy::kSpotAsPriceGo
                                           : SpotStrategy::kSpotWithPriceLimit;
    if (r.strategy == SpotStrategy::kSpotWithPriceLimit) {
      r.spot_price_limit = 0.2 + static_cast<double>(rng.UniformInt(0, 25)) * 0.005;
    }
    r.spot_duration = static_cast<int>(rng.UniformInt(0, 1));
    r.interruption_behavior = rng.UniformInt(0, 3) == 0 ? SpotInterruptionBehavior::kStop
                                                        : SpotInterruptionBehavior::kTerminate;
    r.name = "b" + std::to_string(i);
    // Whole minutes put the instance's grid on price steps (every 5 minutes) one time in five.
    const Duration at = minutes(rng.UniformInt(0, 240)) +
                        (rng.UniformInt(0, 1) ? seconds(0) : seconds(rng.UniformInt(1, 59)));
    // A bid below the price at that moment is refused: that is part of the story, not an error.
    At(*m, at, [r](World& mk) {
      (void)mk.alibaba().RunInstances(r, "user");
      return Status::Ok();
    });
    if (rng.UniformInt(0, 5) == 0) {
      auto find = [name = r.name](World& mk) -> std::string {
        for (const auto& [id, inst] : mk.instances())
          if (inst.name == name) return id;
        return "";
      };
      const Duration stop_at = at + minutes(rng.UniformInt(1, 120));
      const StoppedMode mode =
          rng.UniformInt(0, 1) ? StoppedMode::kStopCharging : StoppedMode::kKeepCharging;
      At(*m, stop_at, [find, mode](World& mk) {
        (void)mk.alibaba().StopInstance(find(mk), mode, cause::kSchedule);
        return Status::Ok();
      });
      At(*m, stop_at + minutes(rng.UniformInt(1, 90)), [find](World& mk) {
        (void)mk.alibaba().StartInstance(find(mk), cause::kSchedule);
        return Status::Ok();
      });
    }
  }
  return m;
}

TEST(AlibabaPropertyTest, EventDrivenChecksSameLogForHourFiveMinuteAnd37SecondJumps) {
  for (uint64_t seed : {11u, 12u}) {
    auto hourly = BigRandomMarket(seed);
    auto five = BigRandomMarket(seed);
    auto odd = BigRandomMarket(seed);
    for (Duration t(0); t < kBigHorizon;) {
      t = std::min<Duration>(kBigHorizon, t + hours(1));
      Go(*hourly, t);
    }
    for (Duration t(0); t < kBigHorizon;) {
      t = std::min<Duration>(kBigHorizon, t + minutes(5));
      Go(*five, t);
    }
    for (Duration t(0); t < kBigHorizon;) {
      t = std::min<Duration>(kBigHorizon, t + seconds(37));
      Go(*odd, t);
    }
    // The market really is big and busy: many instances, recycles by price and by stock.
    int created = 0, by_price = 0, by_capacity = 0;
    for (const Event& e : hourly->log().all()) {
      if (e.kind != kind::kInstance) continue;
      if (e.old_state.empty()) ++created;
      if (e.new_state == "To Be Released" && e.cause == cause::kPrice) ++by_price;
      if (e.new_state == "To Be Released" && e.cause == cause::kCapacity) ++by_capacity;
    }
    EXPECT_GE(created, 500) << seed;
    EXPECT_GE(by_price, 50) << seed;
    EXPECT_GE(by_capacity, 20) << seed;
    const std::string log = Dump(*hourly);
    EXPECT_EQ(log, Dump(*five)) << seed;
    EXPECT_EQ(log, Dump(*odd)) << seed;
  }
}

// The price rule, checked against the pool's price history: a SpotWithPriceLimit instance that
// holds its slot is To Be Released (cause price) exactly at the first point of its own grid at
// which its market price is above its bid, unless something ended it before.
TEST(AlibabaPropertyTest, EventDrivenChecksPriceRecycleAtFirstGridPointOverBid) {
  int checked = 0, on_price_step = 0;
  for (uint64_t seed : {11u, 13u}) {
    auto m = BigRandomMarket(seed);
    Go(*m, kBigHorizon);
    const WallTime end = m->start() + kBigHorizon;
    std::map<std::string, std::vector<const Event*>> by_id;
    for (const Event& e : m->log().all()) {
      if (e.kind == kind::kInstance) by_id[e.id].push_back(&e);
    }
    for (const AlibabaInstanceInfo& i : m->alibaba().DescribeAll(true)) {
      if (i.strategy != SpotStrategy::kSpotWithPriceLimit) continue;
      const Pool& pool = *m->catalog().FindPool(PoolId(i.instance_type, i.zone_id));
      // The first event after creation that could end its checks: a notice, a StopCharging
      // stop (no slot) or a release.
      std::optional<WallTime> ended;
      const Event* notice = nullptr;
      for (const Event* e : by_id[i.instance_id]) {
        if (e->old_state.empty()) continue;
        const bool stop_charging =
            e->new_state == "stopped" && e->detail.find("StopCharging") != std::string::npos;
        if (e->new_state == "To Be Released" || stop_charging || e->new_state == "terminated") {
          ended = e->time;
          if (e->new_state == "To Be Released") notice = e;
          break;
        }
      }
      const WallTime first =
          i.creation_time + std::max<Duration>(hours(i.spot_duration), minutes(5));
      std::optional<WallTime> over;
      for (WallTime g = first; g <= end; g += minutes(5)) {
        const double price = AlibabaFlavor::MarketPrice(pool.PriceAt(g), i.spot_duration);
        if (std::llround(price * 1e4) > std::llround(i.spot_price_limit * 1e4)) {
          over = g;
          break;
        }
      }
      if (!over || (ended && *ended < *over)) continue;
      if (ended && *ended == *over && !notice) continue;  // stopped or released just before
      ++checked;
      if ((*over - m->start()) % minutes(5) == Duration(0)) ++on_price_step;
      ASSERT_NE(notice, nullptr) << i.instance_id << " never noticed; over its bid at "
                                 << FormatRfc3339(*over);
      EXPECT_EQ(notice->time, *over) << i.instance_id;
      EXPECT_EQ(notice->cause, cause::kPrice) << i.instance_id;
    }
  }
  EXPECT_GE(checked, 100);
  EXPECT_GE(on_price_step, 10);  // grid points that meet a price step see the new price
}

// Sees every slot taken or given back, synchronously (an extra flavor runs no rules).
class SlotWatcher final : public Flavor {
 public:
  std::string_view name() const override { return "slot-watcher"; }
  std::optional<FlavorKind> kind() const override { return std::nullopt; }
  std::optional<WallTime> NextDue() const override { return std::nullopt; }
  void RunDue(WallTime) override {}
  void OnPoolChanged(const Pool& pool, PoolChange what, WallTime) override {
    if (what != PoolChange::kUsage) return;
    if (pool.spot_running > last_running_ && pool.spot_running > pool.capacity) ++overfills;
    last_running_ = pool.spot_running;
  }
  void FillMetadata(const Instance&, MetadataView&) const override {}
  int PendingReleases(int) const override { return 0; }

  int overfills = 0;  // slots taken beyond the capacity

 private:
  int last_running_ = 0;
};

TEST(AlibabaPropertyTest, NoPoolOverCapacityShortageResolvedWithinProtectionCheckAndNotice) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto m = RandomMarket(seed);
    auto watcher = std::make_unique<SlotWatcher>();
    SlotWatcher* w = watcher.get();
    m->AddFlavor(std::move(watcher));
    const Pool& pool = m->catalog().pool(0);
    size_t scanned = 0;
    std::optional<WallTime> last_change;
    for (Duration t(0); t <= kHorizon; t += minutes(1)) {
      Go(*m, t);
      for (; scanned < m->log().size(); ++scanned) {
        const Event& e = m->log().all()[scanned];
        if (e.kind == kind::kPool && e.new_state.rfind("capacity=", 0) == 0) last_change = e.time;
      }
      if (pool.spot_running > pool.capacity) {
        // Only a capacity drop makes a shortage, and it is gone after at most the protection
        // hour, one 5-minute check period and the 5-minute notice.
        ASSERT_TRUE(last_change) << seed;
        EXPECT_LE(m->now() - *last_change, hours(1) + minutes(10)) << "seed " << seed;
      }
    }
    EXPECT_EQ(w->overfills, 0) << "seed " << seed;
  }
}

TEST(AlibabaPropertyTest, EveryRecycleFiveMinutesAfterItsNoticeNeverInsideProtection) {
  int notices = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto m = RandomMarket(seed);
    Go(*m, kHorizon + hours(2));
    std::map<std::string, WallTime> noticed;
    for (const Event& e : m->log().all()) {
      if (e.kind != kind::kInstance) continue;
      const bool by_system = e.cause == cause::kPrice || e.cause == cause::kCapacity;
      if (e.new_state == "To Be Released") {
        ++notices;
        ASSERT_TRUE(by_system);
        const AlibabaInstanceInfo info = *m->alibaba().Describe(e.id);
        EXPECT_GE(e.time, info.protection_end) << "recycled inside protection, seed " << seed;
        EXPECT_NE(info.strategy, SpotStrategy::kNoSpot);
        if (e.cause == cause::kPrice) {
          EXPECT_EQ(info.strategy, SpotStrategy::kSpotWithPriceLimit);
        }
        noticed[e.id] = e.time;
        continue;
      }
      auto it = noticed.find(e.id);
      if (by_system) {
        ASSERT_NE(it, noticed.end()) << "recycled without a notice: " << e.id;
        EXPECT_EQ(e.time, it->second + minutes(5)) << e.id << " seed " << seed;
        noticed.erase(it);
      } else if (it != noticed.end()) {
        // Only the user may act first, and only by releasing it before termination-time.
        EXPECT_EQ(e.new_state, "terminated");
        EXPECT_LT(e.time, it->second + minutes(5));
        noticed.erase(it);
      }
    }
    EXPECT_TRUE(noticed.empty()) << "a notice without its release, seed " << seed;
  }
  EXPECT_GT(notices, 10) << "the random markets should exercise recycling";
}

// Billing rebuilt from the event log alone: charging runs from creation to release, except
// while stopped with StopCharging; the price is integrated second by second.
TEST(AlibabaPropertyTest, BillingIsTheIntegralOfTheApplicablePrice) {
  int billed = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto m = RandomMarket(seed);
    Go(*m, kHorizon);
    const Pool& pool = m->catalog().pool(0);
    for (const AlibabaInstanceInfo& info : m->alibaba().DescribeAll(true)) {
      std::vector<std::pair<WallTime, WallTime>> periods;
      std::optional<WallTime> open;
      for (const Event& e : EventsOf(*m, info.instance_id)) {
        const bool stop_charging = e.detail.find("StopCharging") != std::string::npos;
        if (e.new_state == "running" && !open) open = e.time;
        if ((e.new_state == "stopped" && stop_charging && e.old_state != "") ||
            e.new_state == "terminated") {
          if (open) periods.emplace_back(*open, e.time);
          open.reset();
        }
      }
      if (open) periods.emplace_back(*open, m->now());
      const double created_price = pool.PriceAt(info.creation_time);
      double expected = 0;
      for (auto [from, to] : periods) {
        for (WallTime t = from; t < to; t += seconds(1)) {
          double hourly;
          if (info.strategy == SpotStrategy::kNoSpot) {
            hourly = 1.52;
          } else if (info.spot_duration == 0) {
            hourly = 0.9 * pool.PriceAt(t);
          } else {
            hourly = t < info.creation_time + hours(1) ? created_price : pool.PriceAt(t);
          }
          expected += hourly / 3600.0;
        }
      }
      const AlibabaBill bill = *m->alibaba().Bill(info.instance_id);
      EXPECT_NEAR(bill.raw_cost, expected, 1e-9) << info.instance_id << " seed " << seed;
      const double charged = expected < 0.01 ? 0 : std::round(expected * 100) / 100;
      EXPECT_NEAR(bill.charged, charged, 1e-12) << info.instance_id;
      ++billed;
    }
  }
  EXPECT_GT(billed, 30);
}

}  // namespace
}  // namespace lastcall::mock
