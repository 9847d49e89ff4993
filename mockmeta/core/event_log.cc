#include "mockmeta/core/event_log.h"

#include <algorithm>

namespace lastcall::mock {

uint64_t EventLog::Append(Event e) {
  e.seq = events_.size() + 1;
  events_.push_back(std::move(e));
  return events_.back().seq;
}

std::vector<Event> EventLog::Since(uint64_t cursor, size_t limit) const {
  std::vector<Event> out;
  if (cursor >= events_.size()) return out;
  const size_t begin = static_cast<size_t>(cursor);
  const size_t end = begin + std::min(limit, events_.size() - begin);
  out.assign(events_.begin() + static_cast<std::ptrdiff_t>(begin),
             events_.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

}  // namespace lastcall::mock
