// MarketHost: the one simulated World (the Market and its flavors) of a mockmeta process, its
// virtual clock, and the mutex that serialises both.
//
// The core is pure and single-threaded; the server has an io thread and a ticker thread. Every
// access goes through With() (flavor-neutral code: the Market) or WithWorld() (code that needs
// one flavor's own calls: the World's typed flavors), which take the lock, maps the host's
// monotonic clock to virtual time (VirtualClock) and runs Market::AdvanceTo(now) before handing out
// the Market, so every request (IMDS or control) sees the market as of "now". Tick() does the same
// for the timer that keeps timed events happening without requests. Replace() swaps in a freshly
// loaded scenario (all or nothing: the new World was fully built before) and bumps generation(), so
// event followers can tell that the log started over.
//
// Catching up is done in slices of at most kAdvanceSlice units of work (Market::AdvanceTo with
// a budget): With() runs one slice before handing out the Market, so a request never waits for a
// long catch-up and may see the market a little behind the clock while one is under way; Tick()
// runs one slice and says whether the market has caught up, and the ticker thread calls it again
// (releasing the lock in between) until it has. A big clock advance therefore never holds the
// lock or the server's io thread for long, and SIGTERM is handled between slices.
//
// VirtualTimeClock adapts the virtual time to the Clock interface for the HTTP server's Date
// header and for token expiry.
//
// Thread-safety: all methods may be called from any thread. Never call With() from inside a
// With() callback (the mutex is not recursive).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/core/market.h"
#include "mockmeta/core/virtual_clock.h"
#include "mockmeta/core/world.h"

namespace lastcall::mock {

class MarketHost {
 public:
  // `host` (the real clock) must outlive this. The virtual clock starts at the market's start().
  MarketHost(const Clock& host, std::unique_ptr<World> world, ClockSpec spec);

  // Runs f(Market&, VirtualClock&) under the lock after advancing the market to the virtual now,
  // and returns what f returns.
  template <typename F>
  auto With(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    AdvanceLocked();
    Market& market = *world_;
    return std::forward<F>(f)(market, *clock_);
  }
  // The same with f(World&, VirtualClock&), for calls into one flavor (world.aws(), ...).
  template <typename F>
  auto WithWorld(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    AdvanceLocked();
    return std::forward<F>(f)(*world_, *clock_);
  }

  // Work units per slice (instants run plus events logged): a few milliseconds.
  static constexpr size_t kAdvanceSlice = 4096;

  // Runs one slice towards the virtual now; true when the market has caught up with the clock
  // (or the engine failed and will not move: see last_error()).
  bool Tick();

  // Installs a new world (a loaded scenario); the virtual clock restarts at its start time and
  // keeps its mode and speed. Returns the new generation.
  uint64_t Replace(std::unique_ptr<World> world);

  WallTime VirtualNow() const;
  // Lock-free, so it may also be read inside a With() callback.
  uint64_t generation() const { return generation_.load(); }
  const Clock& host_clock() const { return host_; }
  // The last engine error (e.g. a runaway flavor), ok when none.
  Status last_error() const;

 private:
  bool AdvanceLocked();

  const Clock& host_;
  mutable std::mutex mu_;
  std::unique_ptr<World> world_;
  std::unique_ptr<VirtualClock> clock_;
  std::atomic<uint64_t> generation_{1};
  Status last_error_;
};

// Virtual time as a Clock (Now() is the market's virtual now; Monotonic() the host's).
class VirtualTimeClock final : public Clock {
 public:
  explicit VirtualTimeClock(const MarketHost& host) : host_(host) {}
  WallTime Now() const override { return host_.VirtualNow(); }
  MonoTime Monotonic() const override { return host_.host_clock().Monotonic(); }
  // Waits are on monotonic time, which is the host's.
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override {
    return host_.host_clock().WaitUntil(lock, cv, deadline, pred);
  }

 private:
  const MarketHost& host_;
};

}  // namespace lastcall::mock
