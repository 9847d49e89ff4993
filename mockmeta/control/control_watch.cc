#include "mockmeta/control/control_watch.h"

#include <utility>

#include "mockmeta/control/control_json.h"
#include "mockmeta/control/control_router.h"

namespace lastcall::mock {

using nlohmann::json;

bool ParkedRequests::ParkEventWait(uint64_t cursor, size_t limit, uint64_t generation,
                                   MonoTime deadline, HttpResponder respond) {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiters_.size() >= max_parked_) return false;
  waiters_.push_back(Waiter{cursor, limit, generation, deadline, std::move(respond)});
  return true;
}

bool ParkedRequests::AdvancesFull() const {
  std::lock_guard<std::mutex> lock(mu_);
  return advancers_.size() >= max_parked_;
}

void ParkedRequests::ParkAdvance(WallTime target, uint64_t first_seq, uint64_t generation,
                                 HttpResponder respond) {
  std::lock_guard<std::mutex> lock(mu_);
  advancers_.push_back(Advancer{target, first_seq, generation, std::move(respond)});
}

size_t ParkedRequests::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size() + advancers_.size();
}

void ParkedRequests::CancelAll() {
  std::vector<Waiter> waiters;
  std::vector<Advancer> advancers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiters.swap(waiters_);
    advancers.swap(advancers_);
  }
  for (Advancer& a : advancers) {
    a.respond(ErrorResponse({503, "shutting_down", "mockmeta is shutting down", ""}));
  }
  for (Waiter& w : waiters) {
    w.respond(ErrorResponse({503, "shutting_down", "mockmeta is shutting down", ""}));
  }
}

void ParkedRequests::Tick() {
  TickAdvancers();
  TickWaiters();
}

void ParkedRequests::TickAdvancers() {
  std::vector<Advancer> advancers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (advancers_.empty()) return;
    advancers.swap(advancers_);
  }
  std::vector<std::pair<HttpResponder, HttpResponse>> answers;
  std::vector<Advancer> still;
  const Status engine = host_.last_error();
  host_.With([&](Market& market, VirtualClock& clock) {
    const uint64_t generation = host_.generation();
    for (Advancer& a : advancers) {
      if (a.generation != generation) {
        answers.emplace_back(std::move(a.respond),
                             ErrorResponse({409, "scenario_replaced",
                                            "a scenario was loaded while the clock advanced; "
                                            "the new scenario's clock is not moved",
                                            ""}));
      } else if (market.now() >= a.target) {
        json j = ClockJson(market, clock, generation);
        j["events"] = {{"first", a.first_seq}, {"last", market.log().last_seq()}};
        answers.emplace_back(std::move(a.respond), JsonResponse(200, j));
      } else if (!engine.ok()) {
        answers.emplace_back(std::move(a.respond), ErrorResponse(ErrorFromStatus(engine)));
      } else {
        still.push_back(std::move(a));
      }
    }
  });
  if (!still.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Advancer& a : still) advancers_.push_back(std::move(a));
  }
  for (auto& [respond, response] : answers) respond(std::move(response));
}

void ParkedRequests::TickWaiters() {
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiters_.empty()) return;
    waiters.swap(waiters_);
  }
  const MonoTime mono = host_.host_clock().Monotonic();
  std::vector<std::pair<HttpResponder, json>> answers;
  std::vector<Waiter> still;
  host_.With([&](Market& market, VirtualClock&) {
    const uint64_t generation = host_.generation();
    for (Waiter& w : waiters) {
      const bool reset = w.generation != generation;
      if (reset || market.log().last_seq() > w.cursor || mono >= w.deadline) {
        answers.emplace_back(std::move(w.respond),
                             EventPage(market, w.cursor, w.limit, generation, reset));
      } else {
        still.push_back(std::move(w));
      }
    }
  });
  if (!still.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Waiter& w : still) waiters_.push_back(std::move(w));
  }
  for (auto& [respond, body] : answers) respond(JsonResponse(200, body));
}

}  // namespace lastcall::mock
