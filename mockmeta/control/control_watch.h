// ParkedRequests: the control API's requests that wait for the market instead of being answered
// at once: event-log long polls (GET /v1/events?wait=...) and clock advances whose market is
// still catching up in slices (POST /v1/clock/advance beyond one MarketHost::kAdvanceSlice).
//
// Nothing blocks a thread: a parked request is its HttpResponder, answered by Tick() (the app's
// timer, and every mutating control call) once its events exist, its wait ran out, its market
// caught up, or the scenario was replaced; CancelAll() answers the rest with 503 on shutdown.
//
// Thread-safety: every method may be called from any thread. The internal mutex is never held
// while calling into the MarketHost, and responders are called with no lock held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock {

class ParkedRequests {
 public:
  // `host` must outlive this; at most `max_parked` long polls, and as many advances, wait.
  ParkedRequests(MarketHost& host, size_t max_parked) : host_(host), max_parked_(max_parked) {}

  // Parks a long poll for events after `cursor` until `deadline`; false (nothing parked) when
  // the limit is reached.
  bool ParkEventWait(uint64_t cursor, size_t limit, uint64_t generation, MonoTime deadline,
                     HttpResponder respond);
  // Whether another advance may be parked.
  bool AdvancesFull() const;
  // Parks a clock advance until the market reaches `target`; `first_seq` is the first event the
  // advance may have made. May be called inside MarketHost::With.
  void ParkAdvance(WallTime target, uint64_t first_seq, uint64_t generation, HttpResponder respond);

  // Answers the parked requests that are due.
  void Tick();
  // Answers every parked request with 503 (shutdown).
  void CancelAll();
  size_t size() const;
  size_t max_parked() const { return max_parked_; }

 private:
  struct Waiter {
    uint64_t cursor;
    size_t limit;
    uint64_t generation;
    MonoTime deadline;
    HttpResponder respond;
  };

  struct Advancer {
    WallTime target;
    uint64_t first_seq;  // the first event seq the advance may have made
    uint64_t generation;
    HttpResponder respond;
  };

  void TickAdvancers();
  void TickWaiters();

  MarketHost& host_;
  const size_t max_parked_;
  mutable std::mutex mu_;  // never held while calling host_
  std::vector<Waiter> waiters_;
  std::vector<Advancer> advancers_;
};

}  // namespace lastcall::mock
