// The Flavor interface on its own: a Market with only a test flavor registered, built without
// any cloud's header (this file includes none), runs it, asks it for its instances' metadata
// and sums what every flavor has pending in a pool.
#include "mockmeta/core/flavor.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/core/market.h"

namespace lastcall::mock {
namespace {

using std::chrono::minutes;

// A flavor that serves one FlavorKind, wakes once at `due`, and reports a fixed number of
// pending releases per pool; it writes what the Market asked of it to a shared trace.
class FakeFlavor final : public Flavor {
 public:
  FakeFlavor(FlavorKind kind, std::string name, std::vector<std::string>* trace)
      : kind_(kind), name_(std::move(name)), trace_(trace) {}

  std::string_view name() const override { return name_; }
  std::optional<FlavorKind> kind() const override { return kind_; }
  std::optional<WallTime> NextDue() const override { return due; }
  void RunDue(WallTime now) override {
    trace_->push_back(name_ + " ran at " + FormatRfc3339(now));
    due.reset();
  }
  void OnPoolChanged(const Pool&, PoolChange, WallTime) override {}
  void FillMetadata(const Instance& instance, MetadataView& view) const override {
    view.target_lifecycle_state = name_ + " state of " + instance.id;
  }
  int PendingReleases(int pool) const override { return pool == 0 ? pending_in_pool0 : 0; }

  std::optional<WallTime> due;
  int pending_in_pool0 = 0;

 private:
  FlavorKind kind_;
  std::string name_;
  std::vector<std::string>* trace_;
};

std::unique_ptr<Market> MakeMarket() {
  auto m = std::make_unique<Market>();
  EXPECT_TRUE(m->AddZone({"z1", "r1"}).ok());
  EXPECT_TRUE(m->AddType({"t1", 2, 4, 1.0}).ok());
  EXPECT_TRUE(m->AddPool("t1", "z1", 4, PriceModel{}, 0.1).ok());
  return m;
}

Instance Spot(FlavorKind kind) {
  Instance i;
  i.flavor = kind;
  i.type = "t1";
  i.zone = "z1";
  i.spot = true;
  i.state = InstanceState::kRunning;
  return i;
}

TEST(FlavorTest, MarketWithOnlyATestFlavorAsksItForItsInstancesMetadata) {
  auto m = MakeMarket();
  std::vector<std::string> trace;
  FakeFlavor& fake = m->AddFlavor(std::make_unique<FakeFlavor>(FlavorKind::kAws, "fake", &trace));
  EXPECT_EQ(m->FlavorFor(FlavorKind::kAws), &fake);
  EXPECT_EQ(m->FlavorFor(FlavorKind::kAlibaba), nullptr);

  Result<Instance*> served = m->AddInstance(Spot(FlavorKind::kAws), true, cause::kUser);
  Result<Instance*> unserved = m->AddInstance(Spot(FlavorKind::kAlibaba), true, cause::kUser);
  ASSERT_TRUE(served.ok() && unserved.ok());
  Result<MetadataView> v = m->Metadata((*served)->id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->target_lifecycle_state, "fake state of " + (*served)->id);
  EXPECT_EQ(v->zone, "z1");  // the Market's part is filled too
  // No flavor serves Alibaba instances here: the Market's part only, no error.
  Result<MetadataView> plain = m->Metadata((*unserved)->id);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->target_lifecycle_state.has_value());
  EXPECT_EQ(plain->instance_type, "t1");
}

TEST(FlavorTest, FlavorsRunInRegistrationOrderAtOneInstant) {
  auto m = MakeMarket();
  std::vector<std::string> trace;
  FakeFlavor& second =
      m->AddFlavor(std::make_unique<FakeFlavor>(FlavorKind::kAlibaba, "second", &trace));
  FakeFlavor& first = m->AddFlavor(std::make_unique<FakeFlavor>(FlavorKind::kAws, "first", &trace));
  const WallTime t = m->now() + minutes(5);
  first.due = t;
  second.due = t;
  ASSERT_TRUE(m->AdvanceTo(t + minutes(1)).ok());
  const std::vector<std::string> want = {"second ran at " + FormatRfc3339(t),
                                         "first ran at " + FormatRfc3339(t)};
  EXPECT_EQ(trace, want);
}

TEST(FlavorTest, MarketPendingReleasesSumsEveryFlavor) {
  auto m = MakeMarket();
  std::vector<std::string> trace;
  FakeFlavor& a = m->AddFlavor(std::make_unique<FakeFlavor>(FlavorKind::kAws, "a", &trace));
  FakeFlavor& b = m->AddFlavor(std::make_unique<FakeFlavor>(FlavorKind::kAlibaba, "b", &trace));
  EXPECT_EQ(m->PendingReleases(0), 0);
  a.pending_in_pool0 = 2;
  b.pending_in_pool0 = 1;
  EXPECT_EQ(m->PendingReleases(0), 3);
  EXPECT_EQ(m->PendingReleases(1), 0);
}

}  // namespace
}  // namespace lastcall::mock
