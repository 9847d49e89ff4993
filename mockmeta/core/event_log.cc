#include "mockmeta/core/event_log.h"

#include <algorithm>

namespace lastcall::mock {

uint64_t EventLog::Append(Event e) {
  e.seq = ++last_seq_;
  if (events_.size() >= capacity_) events_.pop_front();
  events_.push_back(std::move(e));
  return last_seq_;
}

std::vector<Event> EventLog::Since(uint64_t cursor, size_t limit) const {
  std::vector<Event> out;
  if (cursor >= last_seq_) return out;
  // A cursor older than what is held starts at the oldest held event.
  const uint64_t from = std::max(cursor + 1, first_seq());
  const size_t begin = static_cast<size_t>(from - first_seq());
  const size_t end = begin + std::min(limit, events_.size() - begin);
  out.assign(events_.begin() + static_cast<std::ptrdiff_t>(begin),
             events_.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

}  // namespace lastcall::mock
