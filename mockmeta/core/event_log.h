// EventLog: the ordered record of every state change in the simulation.
//
// Each event has a sequence number (1, 2, 3, ... with no gaps), the virtual time, the object
// (kind + id), its old and new state, the cause and a free-form detail. Readers page through it
// with a cursor: Since(cursor, limit) returns events with seq > cursor, oldest first; the last
// returned seq is the next cursor. Because seqs are dense, Since is O(limit).
//
// Kinds and causes are short lowercase strings so flavors can add their own without touching
// this file; the common ones are below. Keep states in the cloud's own words ("To Be Released",
// "marked-for-termination", "running").
//
// Thread-safety: not thread-safe; owned by the Market.
#pragma once

#include <cstdint>
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

class EventLog {
 public:
  // Assigns the next seq and returns it.
  uint64_t Append(Event e);
  // Events with seq > cursor, oldest first, at most `limit`.
  std::vector<Event> Since(uint64_t cursor, size_t limit) const;
  uint64_t last_seq() const { return events_.size(); }
  size_t size() const { return events_.size(); }
  const std::vector<Event>& all() const { return events_; }

 private:
  std::vector<Event> events_;  // events_[i].seq == i + 1
};

}  // namespace lastcall::mock
