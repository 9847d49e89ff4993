// market_bench: how fast the mockmeta market engine (lastcall_mock_core) moves a large fleet
// through virtual time, and how its memory grows with the fleet.
//
// The fleet: N instances over 20 pools (10 Alibaba ecs.* pools in two cn-hangzhou zones, 10
// AWS m5/c5 pools in two us-east-1 zones), every pool priced by the walk model (5-minute
// steps), simulated for D virtual days. Half the fleet is Alibaba preemptible instances
// (SpotWithPriceLimit with bids from tight to generous, SpotAsPriceGo, SpotDuration 0 and 1,
// Terminate and Stop), half AWS spot requests (one-time and persistent, max prices from tight
// to the on-demand price). Capacity is sized at the pool's share of the fleet plus a little
// headroom, and every pool loses 15% of its capacity for six hours every three days (staggered
// by pool), so both price recycling and stock-shortage interruptions happen. Once a virtual
// day the bench tops the fleet up (new Alibaba instances and new one-time AWS requests for
// what was lost) as an operator's autoscaler would.
//
// It reports wall time, engine steps (distinct virtual instants processed) and event-log
// entries per second, peak RSS (getrusage ru_maxrss) and RSS per instance, and the ratio of
// the wall time to the 10 s goal for 10,000 instances. Not a test: run it by hand or with
// bench/run_market_bench.sh; results go to bench/RESULTS.md.
//
// Usage: market_bench [--instances N] [--days D] [--seed S]
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mockmeta/core/world.h"

namespace lm = lastcall::mock;

namespace {

constexpr int kPools = 20;
constexpr int kAlibabaPools = kPools / 2;

struct Options {
  int instances = 10000;
  int days = 30;
  uint64_t seed = 1;
};

struct PoolPlan {
  std::string type;
  std::string zone;
  double on_demand = 0;
  double mean = 0;
  int capacity = 0;
  bool alibaba = false;
};

[[noreturn]] void Fail(const std::string& what, const lastcall::Status& s) {
  std::fprintf(stderr, "market_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe): the benchmark runs on one thread
}

long PeakRssKib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

// User + system CPU seconds: on a shared machine this says more than the wall time.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if ((a == "--instances" || a == "--days" || a == "--seed") && (v = value())) {
      char* end = nullptr;
      const long long n = std::strtoll(v, &end, 10);
      if (*end != '\0' || n <= 0) {
        std::fprintf(stderr, "market_bench: %s needs a positive integer, got \"%s\"\n", a.c_str(),
                     v);
        return false;
      }
      if (a == "--instances") o.instances = static_cast<int>(n);
      if (a == "--days") o.days = static_cast<int>(n);
      if (a == "--seed") o.seed = static_cast<uint64_t>(n);
    } else {
      std::fprintf(stderr, "usage: market_bench [--instances N] [--days D] [--seed S]\n");
      return false;
    }
  }
  return true;
}

std::vector<PoolPlan> PlanPools(int instances) {
  const char* ali_types[] = {"ecs.c5.large", "ecs.c5.xlarge", "ecs.g5.large", "ecs.g5.xlarge",
                             "ecs.r5.large"};
  const char* aws_types[] = {"m5.large", "m5.xlarge", "c5.large", "c5.xlarge", "r5.large"};
  const double od[] = {0.10, 0.20, 0.12, 0.24, 0.15};
  std::vector<PoolPlan> pools;
  const int per_pool = (instances + kPools - 1) / kPools;
  for (int i = 0; i < kPools; ++i) {
    PoolPlan p;
    p.alibaba = i < kAlibabaPools;
    const int t = i % 5;
    const int z = (i / 5) % 2;
    p.type = p.alibaba ? ali_types[t] : aws_types[t];
    p.zone = p.alibaba ? (z == 0 ? "cn-hangzhou-b" : "cn-hangzhou-h")
                       : (z == 0 ? "us-east-1a" : "us-east-1b");
    p.on_demand = od[t];
    p.mean = od[t] * 0.3;
    p.capacity = per_pool + per_pool / 20 + 1;  // 5% headroom
    pools.push_back(p);
  }
  return pools;
}

void BuildCatalog(lm::Market& m, const std::vector<PoolPlan>& pools) {
  for (const char* z : {"cn-hangzhou-b", "cn-hangzhou-h"}) {
    if (auto s = m.AddZone({z, "cn-hangzhou"}); !s.ok()) Fail("zone", s);
  }
  for (const char* z : {"us-east-1a", "us-east-1b"}) {
    if (auto s = m.AddZone({z, "us-east-1"}); !s.ok()) Fail("zone", s);
  }
  std::map<std::string, double> types;
  for (const PoolPlan& p : pools) types[p.type] = p.on_demand;
  for (const auto& [name, price] : types) {
    if (auto s = m.AddType({name, 2, 8, price}); !s.ok()) Fail("type", s);
  }
  for (size_t i = 0; i < pools.size(); ++i) {
    const PoolPlan& p = pools[i];
    lm::PriceModel walk;
    walk.kind = lm::PriceModelKind::kWalk;
    walk.step = std::chrono::minutes(5);
    walk.mean = p.mean;
    walk.floor = p.mean * 0.4;
    walk.volatility = 0.08;
    walk.reversion = 0.05;
    auto added = m.AddPool(p.type, p.zone, p.capacity, walk, p.mean);
    if (!added.ok()) Fail("pool " + p.type + "@" + p.zone, added.status());
  }
}

// Capacity drops: every 3 days, staggered by pool, 15% of the capacity goes for 6 hours.
void ScheduleCrunches(lm::Market& m, const std::vector<PoolPlan>& pools, int days) {
  for (size_t i = 0; i < pools.size(); ++i) {
    const std::string id = lm::PoolId(pools[i].type, pools[i].zone);
    for (int day = 1 + static_cast<int>(i % 3); day < days; day += 3) {
      const auto at = m.start() + std::chrono::hours(24 * day + static_cast<int>(i));
      lm::TimedAction drop;
      drop.kind = lm::TimedAction::Kind::kSetCapacity;
      drop.at = at;
      drop.pool = id;
      drop.capacity = pools[i].capacity * 85 / 100;
      drop.label = "bench crunch";
      lm::TimedAction back = drop;
      back.at = at + std::chrono::hours(6);
      back.capacity = pools[i].capacity;
      back.label = "bench crunch over";
      if (auto s = m.Schedule(drop); !s.ok()) Fail("schedule", s.status());
      if (auto s = m.Schedule(back); !s.ok()) Fail("schedule", s.status());
    }
  }
}

// Live (not terminated) instances per pool index, by flavor.
std::vector<int> LiveByPool(const lm::Market& m) {
  std::vector<int> live(kPools, 0);
  for (const auto& [id, inst] : m.instances()) {
    if (inst.state != lm::InstanceState::kTerminated && inst.pool >= 0) ++live[inst.pool];
  }
  return live;
}

// Brings every pool back to its target count (the first call launches the whole fleet).
// Launches that the market refuses (no stock, bid below the price) are simply retried the
// next day, as an autoscaler would.
void TopUp(lm::World& m, const std::vector<PoolPlan>& pools, int target_per_pool, int& serial) {
  const std::vector<int> live = LiveByPool(m);
  for (int i = 0; i < kPools; ++i) {
    const PoolPlan& p = pools[i];
    const double price = m.catalog().pool(i).price;
    for (int k = live[i]; k < target_per_pool; ++k, ++serial) {
      const int variant = serial % 8;
      if (p.alibaba) {
        lm::AlibabaRunRequest req;
        req.zone = p.zone;
        req.instance_type = p.type;
        req.spot_duration = variant % 4 == 0 ? 0 : 1;
        req.interruption_behavior = variant == 5 ? lm::SpotInterruptionBehavior::kStop
                                                 : lm::SpotInterruptionBehavior::kTerminate;
        if (variant == 7) {
          req.strategy = lm::SpotStrategy::kSpotAsPriceGo;
        } else {
          req.strategy = lm::SpotStrategy::kSpotWithPriceLimit;
          // Bids from 1.1x to 2.5x the pool's mean: the tight ones are recycled by price.
          const double bid = p.mean * (1.1 + 0.2 * variant);
          req.spot_price_limit = std::min(p.on_demand, std::max(bid, price * 1.05));
        }
        req.name = "bench-" + std::to_string(serial);
        (void)m.alibaba().RunInstances(req, "bench");
      } else {
        lm::SpotRequestSpec spec;
        spec.instance_type = p.type;
        spec.zone = p.zone;
        spec.type = variant < 4 ? lm::SpotRequestType::kPersistent : lm::SpotRequestType::kOneTime;
        spec.max_price = std::min(p.on_demand, p.mean * (1.3 + 0.25 * variant));
        spec.name = "bench-" + std::to_string(serial);
        (void)m.aws().RequestSpotInstances(spec, "bench");
      }
    }
  }
}

// FNV-1a over every field of every event: two engine versions that must behave identically
// (an optimisation) print the same digest for the same arguments.
uint64_t LogDigest(const lm::World& m) {
  uint64_t digest = 1469598103934665603ull;
  auto mix = [&digest](std::string_view s) {
    for (unsigned char c : s) digest = (digest ^ c) * 1099511628211ull;
    digest = (digest ^ 0xffu) * 1099511628211ull;  // field separator
  };
  for (const lm::Event& e : m.log().all()) {
    mix(std::to_string(e.seq));
    mix(std::to_string(e.time.time_since_epoch().count()));
    for (const std::string* f : {&e.kind, &e.id, &e.old_state, &e.new_state, &e.cause, &e.detail}) {
      mix(*f);
    }
  }
  return digest;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) return 2;
  const auto wall_start = std::chrono::steady_clock::now();
  const long rss_before = PeakRssKib();

  lm::World m(lm::MarketOptions{.seed = o.seed});
  const std::vector<PoolPlan> pools = PlanPools(o.instances);
  BuildCatalog(m, pools);
  ScheduleCrunches(m, pools, o.days);
  const int target = o.instances / kPools;
  int serial = 0;

  uint64_t steps = 0;
  const auto end = m.start() + std::chrono::hours(24 * o.days);
  for (int day = 0; day < o.days; ++day) {
    TopUp(m, pools, target, serial);
    const auto day_end = m.start() + std::chrono::hours(24 * (day + 1));
    // One AdvanceTo per instant, so the bench can count the engine's steps; the engine gives
    // the same log for one big advance (MarketTest.OneBigAdvanceEqualsManySmallOnes).
    for (std::optional<lastcall::WallTime> next = m.NextDue(); next && *next <= day_end;
         next = m.NextDue()) {
      if (auto s = m.AdvanceTo(*next); !s.ok()) Fail("advance", s);
      ++steps;
    }
    if (auto s = m.AdvanceTo(day_end); !s.ok()) Fail("advance", s);
  }
  if (m.now() != end) Fail("advance", lastcall::Internal("did not reach the end"));

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = CpuSeconds();
  const long rss = PeakRssKib();

  // What happened, so a run that does nothing interesting is visible.
  uint64_t recycled = 0, aws_marked = 0, launched = 0;
  for (const lm::Event& e : m.log().all()) {
    if (e.kind != lm::kind::kInstance && e.kind != lm::kind::kSpotRequest) continue;
    if (e.new_state == "To Be Released") ++recycled;
    if (e.new_state.rfind("active/marked-for-", 0) == 0) ++aws_marked;
    if (e.kind == lm::kind::kInstance && e.old_state.empty()) ++launched;
  }
  const double events = static_cast<double>(m.log().size());
  const uint64_t digest = LogDigest(m);
  std::printf("market_bench: %d instances (target), %d pools, %d virtual days, seed %llu\n",
              o.instances, kPools, o.days, static_cast<unsigned long long>(o.seed));
  std::printf("  launched instances   %llu (incl. daily top-ups and persistent relaunches)\n",
              static_cast<unsigned long long>(launched));
  std::printf("  alibaba recycled     %llu\n", static_cast<unsigned long long>(recycled));
  std::printf("  aws interrupted      %llu\n", static_cast<unsigned long long>(aws_marked));
  std::printf("  wall time            %.3f s (%.2fx the 10 s goal for 10,000 instances%s)\n", wall,
              wall / 10.0, o.instances == 10000 ? "" : "; goal applies at 10,000");
  std::printf("  cpu time             %.3f s (%.2fx the goal)\n", cpu, cpu / 10.0);
  std::printf("  engine steps         %llu (%.0f /s)\n", static_cast<unsigned long long>(steps),
              static_cast<double>(steps) / wall);
  std::printf("  event-log entries    %.0f (%.0f /s), digest %016llx\n", events, events / wall,
              static_cast<unsigned long long>(digest));
  std::printf(
      "  peak RSS             %.1f MiB (%.2f KiB per launched instance; %.1f MiB at start)\n",
      static_cast<double>(rss) / 1024.0,
      launched ? static_cast<double>(rss - rss_before) / static_cast<double>(launched) : 0.0,
      static_cast<double>(rss_before) / 1024.0);
  std::printf(
      "RESULT instances=%d wall_s=%.3f cpu_s=%.3f steps=%llu events=%.0f rss_kib=%ld "
      "launched=%llu\n",
      o.instances, wall, cpu, static_cast<unsigned long long>(steps), events, rss,
      static_cast<unsigned long long>(launched));
  return 0;
}
