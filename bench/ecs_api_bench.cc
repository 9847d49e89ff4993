// ecs_api_bench: the ECS API face in-process (no sockets), on a manual virtual clock.
//   RunInstances: N calls of Amount=1 (SpotAsPriceGo) -> calls per second.
//   DescribeInstances over those N instances, PageSize=100 pages (PageNumber) and MaxResults=100
//   pages (NextToken), `rounds` times -> p50 / p99 per page.
// Usage: ecs_api_bench [--instances N] [--rounds R]. Results go to bench/RESULTS.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mockmeta/ecsapi/ecs_api.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lm = lastcall::mock;

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

lm::HttpResponse Call(lm::ecs::EcsApi& api, const std::string& q) {
  return api.Handle(lm::HttpRequest::Make("GET", "/?Version=2014-05-26&RegionId=cn-hangzhou&" + q),
                    {});
}

}  // namespace

int main(int argc, char** argv) {
  int instances = 10000, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--instances") == 0) instances = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::stoi(argv[i + 1]);
  }
  auto market = lm::ScenarioBuilder()
                    .Start("2026-04-07T00:00:00Z")
                    .Alibaba()
                    .Pool("ecs.c5.8xlarge", "cn-hangzhou-b", instances + 10, 0.152)
                    .Load("bench.toml");
  if (!market.ok()) {
    std::fprintf(stderr, "%s\n", market.status().ToString().c_str());
    return 1;
  }
  lastcall::FakeClock host;
  lm::MarketHost mh(host, std::move(market).value(), lm::ClockSpec{lm::ClockMode::kManual, 0});
  lm::ecs::EcsApi api(mh);

  const auto run_start = Clock::now();
  for (int i = 0; i < instances; ++i) {
    lm::HttpResponse r = Call(api,
                              "Action=RunInstances&ZoneId=cn-hangzhou-b&InstanceType=ecs.c5."
                              "8xlarge&SpotStrategy=SpotAsPriceGo");
    if (r.status != 200) {
      std::fprintf(stderr, "RunInstances: %d %s\n", r.status, r.body.c_str());
      return 1;
    }
  }
  const double run_s = Ms(Clock::now() - run_start) / 1000;

  std::vector<double> by_number, by_token;
  for (int round = 0; round < rounds; ++round) {
    const int pages = (instances + 99) / 100;
    for (int p = 1; p <= pages; ++p) {
      const auto t = Clock::now();
      lm::HttpResponse r =
          Call(api, "Action=DescribeInstances&PageSize=100&PageNumber=" + std::to_string(p));
      by_number.push_back(Ms(Clock::now() - t));
      if (r.status != 200) return 1;
    }
    std::string token;
    do {
      const auto t = Clock::now();
      lm::HttpResponse r = Call(api, "Action=DescribeInstances&MaxResults=100" +
                                         (token.empty() ? "" : "&NextToken=" + token));
      by_token.push_back(Ms(Clock::now() - t));
      if (r.status != 200) return 1;
      token = nlohmann::json::parse(r.body)["NextToken"];
    } while (!token.empty());
  }
  std::printf("instances %d\n", instances);
  std::printf("RunInstances (Amount=1): %.0f calls/s (%.2f s for %d)\n", instances / run_s, run_s,
              instances);
  std::printf("DescribeInstances PageSize=100 (PageNumber): p50 %.2f ms, p99 %.2f ms (%zu pages)\n",
              Percentile(by_number, 0.5), Percentile(by_number, 0.99), by_number.size());
  std::printf(
      "DescribeInstances MaxResults=100 (NextToken): p50 %.2f ms, p99 %.2f ms (%zu pages)\n",
      Percentile(by_token, 0.5), Percentile(by_token, 0.99), by_token.size());
  return 0;
}
