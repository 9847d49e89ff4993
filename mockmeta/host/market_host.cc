#include "mockmeta/host/market_host.h"

namespace lastcall::mock {

MarketHost::MarketHost(const Clock& host, std::unique_ptr<World> world, ClockSpec spec)
    : host_(host),
      world_(std::move(world)),
      clock_(std::make_unique<VirtualClock>(host, world_->start(), spec)) {}

bool MarketHost::AdvanceLocked() {
  const WallTime now = clock_->Now();
  if (now <= world_->now()) return true;
  Status s = world_->AdvanceTo(now, kAdvanceSlice);
  if (!s.ok()) {
    // Kept (not thrown away) so the control API's health check can report it.
    last_error_ = s;
    return true;  // stuck, not behind: another slice would fail the same way
  }
  return world_->now() >= now;
}

bool MarketHost::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  return AdvanceLocked();
}

uint64_t MarketHost::Replace(std::unique_ptr<World> world) {
  std::lock_guard<std::mutex> lock(mu_);
  ClockSpec spec{clock_->mode(), clock_->speed()};
  world_ = std::move(world);
  clock_ = std::make_unique<VirtualClock>(host_, world_->start(), spec);
  last_error_ = Status::Ok();
  return ++generation_;
}

WallTime MarketHost::VirtualNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  // The market may be ahead of the clock only by an explicit advance, which moves both.
  return clock_->Now();
}

Status MarketHost::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

}  // namespace lastcall::mock
