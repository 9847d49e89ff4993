// Fuzzes mockmeta's IMDS request path in process: the input is one or more HTTP requests (wire
// text, see http_input.h) handed to ImdsRouter as the server would, on the listener the
// X-Fuzz-Listener pseudo-header names ("imds": path prefixes; "aws" / "alibaba": bound to an
// instance). The router resolves the instance through the MarketDirectory of a fresh MockWorld,
// applies the token rules (a PUT's token is what "$TOKEN" header values become), the fault
// table, and the AWS / Alibaba metadata trees. A request on the listener "control" goes to the
// control API instead, so an input can inject fault rules (POST /v1/faults) or move the clock
// before it asks IMDS.
//
// Oracles: no crash, sanitizer report, escaping exception or timeout; an answer has a known
// status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/http_input.h"
#include "fuzz/mock_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  auto requests =
      fuzz::SplitHttpRequests(std::string_view(reinterpret_cast<const char*>(data), size), 16);
  if (requests.empty()) return 0;
  fuzz::MockWorld world;
  std::string token = "no-token-yet";
  for (fuzz::FuzzRequest& r : requests) {
    for (auto& [name, value] : r.http.headers) {
      if (value == "$TOKEN") value = token;
    }
    if (r.listener == "control") {
      world.Control(r.http);
      continue;
    }
    mock::HttpResponse response = world.Imds(r.http, r.listener);
    FUZZ_CHECK(response.status >= 100 && response.status <= 599, "%s %s: status %d",
               r.http.method.c_str(), r.http.target.c_str(), response.status);
    if (r.http.method == "PUT" && response.status == 200) token = response.body;
    world.Advance(std::chrono::seconds(1));
  }
  world.Finish();
  return 0;
}
