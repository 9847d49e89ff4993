// EventLog: the ordered record of every state change in the simulation.
//
// Each event has a sequence number (1, 2, 3, ... with no gaps), the virtual time, the object
// (kind + id), its old and new state, the cause and a free-form detail. Readers page through it
// with a cursor: Since(cursor, limit) returns events with seq > cursor, oldest first; the last
// returned seq is the next cursor. Because seqs are dense, Since is O(limit).
//
// Bounded: the log keeps the newest `capacity` events (a ring; kDefaultEventCapacity unless
// constructed with another) and forgets older ones, so a long run at a fine step cannot grow it
// without end. Seqs keep counting; first_seq() is the oldest one still held. A reader whose
// cursor fell behind gets the oldest held events next: it sees the jump in seq (the control API
// also reports `first_seq` and how many it missed) rather than an error.
//
// Kinds and causes are short lowercase strings so flavors can add their own without touching
// this file; the common ones are below. Keep states in the cloud's own words ("To Be Released",
// "marked-for-termination", "running").
//
// Thread-safety: not thread-safe; owned by the Market.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/clock.h"

namespace lastcall::mock {

namespace kind {
inline constexpr const char* kPool = "pool";          // id: pool id; state: price or capacity
inline constexpr const char* kInstance = "instance";  // id: instance id
inline constexpr const char* kSpotRequest = "spot_request";
inline constexpr const char* kAction = "action";  // a timed action that failed
}  // namespace kind

namespace cause {
inline constexpr const char* kMarket = "market";      // a price model step
inline constexpr const char* kPrice = "price";        // the spot price crossed a bid
inline constexpr const char* kCapacity = "capacity";  // capacity changed / stock shortage
inline constexpr const char* kSchedule = "schedule";  // a scenario timed action
inline constexpr const char* kUser = "user";          // a control API / cloud API call
inline constexpr const char* kExpiry = "expiry";      // a deadline or validity ran out
inline constexpr const char* kService = "service";    // the provider acted (maintenance, fault)
inline constexpr const char* kScenario = "scenario";  // set up by the scenario at load time
}  // namespace cause

struct Event {
  uint64_t seq = 0;
  WallTime time{};
  std::string kind;
  std::string id;
  std::string old_state;
  std::string new_state;
  std::string cause;
  std::string detail;
};

inline constexpr size_t kDefaultEventCapacity = 100000;

class EventLog {
 public:
  explicit EventLog(size_t capacity = kDefaultEventCapacity)
      : capacity_(capacity > 0 ? capacity : 1) {}

  // Assigns the next seq and returns it; drops the oldest event when full.
  uint64_t Append(Event e);
  // Held events with seq > cursor, oldest first, at most `limit`.
  std::vector<Event> Since(uint64_t cursor, size_t limit) const;
  uint64_t last_seq() const { return last_seq_; }
  // The oldest seq still held (last_seq() + 1 when empty).
  uint64_t first_seq() const { return last_seq_ - events_.size() + 1; }
  // Events held now (at most capacity()).
  size_t size() const { return events_.size(); }
  size_t capacity() const { return capacity_; }
  const std::deque<Event>& all() const { return events_; }

 private:
  size_t capacity_;
  uint64_t last_seq_ = 0;
  std::deque<Event> events_;  // events_[i].seq == first_seq() + i
};

}  // namespace lastcall::mock
