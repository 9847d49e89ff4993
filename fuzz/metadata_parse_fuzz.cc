// Fuzzes the parsers of the metadata bodies a (broken or hostile) metadata server sends to
// lastcalld: spot/instance-action, termination-time, rebalance, scheduled events and the
// Auto Scaling lifecycle state (agent/providers/metadata_parse.h). Every input goes through all
// five, so a seed of one format also explores the others.
//
// Oracles: no crash, no sanitizer report, no escaping exception (the parsers promise never to
// throw), determinism (same body, same result: notice ids are derived from it), and what a
// parser accepts keeps the shape its header promises.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/providers/metadata_parse.h"
#include "fuzz/fuzz_check.h"

namespace lastcall {
namespace {

template <typename T>
void CheckSame(const Result<T>& a, const Result<T>& b, const char* what) {
  FUZZ_CHECK(a.ok() == b.ok(), "%s: not deterministic", what);
  if (!a.ok())
    FUZZ_CHECK(a.status().message() == b.status().message(), "%s: message differs", what);
}

}  // namespace
}  // namespace lastcall

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  auto action = ParseInstanceAction(body);
  CheckSame(action, ParseInstanceAction(body), "instance-action");
  if (action.ok()) {
    FUZZ_CHECK(
        action->action == "terminate" || action->action == "stop" || action->action == "hibernate",
        "instance-action accepted action of %zu bytes", action->action.size());
    FUZZ_CHECK(action->time == ParseInstanceAction(body)->time, "instance-action time differs");
  }

  auto termination = ParseTerminationTime(body);
  CheckSame(termination, ParseTerminationTime(body), "termination-time");

  auto rebalance = ParseRebalance(body);
  CheckSame(rebalance, ParseRebalance(body), "rebalance");

  auto events = ParseScheduledEvents(body);
  CheckSame(events, ParseScheduledEvents(body), "scheduled events");
  if (events.ok()) {
    for (const ScheduledEvent& e : events->events) {
      FUZZ_CHECK(!e.raw.empty(), "scheduled event without its raw JSON");
    }
  }

  auto lifecycle = ParseLifecycleState(body);
  CheckSame(lifecycle, ParseLifecycleState(body), "lifecycle state");
  if (lifecycle.ok()) {
    FUZZ_CHECK(!lifecycle->empty(), "empty lifecycle state accepted");
    FUZZ_CHECK(lifecycle->size() <= body.size(), "lifecycle state longer than the body");
  }
  return 0;
}
