// ec2_api_bench: what mockmeta's EC2 Query API costs next to the control API for the same work,
// in one run over one market: the two request handlers (Ec2Api::Handle and ControlApi::Handle)
// called in process, so the numbers are the handlers' (parse, lock, market, render), without
// the network, the same way for both.
//
//   1. RequestSpotInstances calls per second (EC2, form body, InstanceCount=1) and the control
//      API's POST /v1/aws/spot-requests (JSON), alternating in blocks, each fulfilled at once.
//   2. DescribeInstances over the whole fleet (default 10,000 instances) page by page
//      (MaxResults=1000): latency per page, p50 / p99, and per full listing; the control API's
//      GET /v1/instances (one answer, it does not page) per full listing; likewise
//      DescribeSpotInstanceRequests against GET /v1/aws/spot-requests.
//
// Not a test: run it by hand; results go to bench/RESULTS.md.
// Usage: ec2_api_bench [--instances N] [--requests R] [--rounds K]
// (defaults 10,000 instances, 2,000 spot request calls, 10 listing rounds)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "mockmeta/control/control_api.h"
#include "mockmeta/ec2api/ec2_api.h"
#include "mockmeta/ec2api/sigv4.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lm = lastcall::mock;

namespace {

using Clock = std::chrono::steady_clock;

lm::ScenarioBuilder Scenario(int capacity) {
  return lm::ScenarioBuilder()
      .Seed(1)
      .Start("2026-04-07T00:00:00Z")
      .Aws()
      .Pool("m5.large", "us-east-1a", capacity, 0.03);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto last = static_cast<double>(v.size() - 1);
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::lround(p * last)));
  return v[i];
}

std::string Between(const std::string& s, const std::string& open, const std::string& close) {
  const size_t a = s.find(open);
  if (a == std::string::npos) return "";
  const size_t b = s.find(close, a + open.size());
  return s.substr(a + open.size(), b - a - open.size());
}

struct Bench {
  explicit Bench(int capacity)
      : host(clock, std::move(Scenario(capacity).Load("bench.toml")).value(),
             lm::ClockSpec{lm::ClockMode::kManual, 0}),
        vclock(host),
        directory(host),
        tokens(vclock, 1),
        control(host, directory, tokens, faults),
        // As in the app: a mutation wakes the control API's event followers.
        ec2(host, lm::ec2::Ec2ApiOptions{.credentials = std::nullopt,
                                         .on_change = [this] { control.Tick(); }}) {}

  lm::HttpResponse Ec2(const std::string& body) {
    return ec2.Handle(
        lm::HttpRequest::Make("POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                              body),
        {});
  }
  lm::HttpResponse Control(const std::string& method, const std::string& target,
                           std::string body = "") {
    std::optional<lm::HttpResponse> out;
    control.Handle(lm::HttpRequest::Make(method, target, {}, std::move(body)), {},
                   [&](lm::HttpResponse r) { out = std::move(r); });
    return out.value_or(lm::HttpResponse{});
  }

  lastcall::FakeClock clock;
  lm::MarketHost host;
  lm::VirtualTimeClock vclock;
  lm::MarketDirectory directory;
  lm::TokenStore tokens;
  lm::FaultTable faults;
  lm::ControlApi control;
  lm::ec2::Ec2Api ec2;
};

void Fail(const char* what, const lm::HttpResponse& r) {
  std::fprintf(stderr, "ec2_api_bench: %s failed (%d): %.300s\n", what, r.status, r.body.c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe): the benchmark runs on one thread
}

// (1) RequestSpotInstances: EC2 and control alternately in blocks of 100; calls per second each.
void SpotRequests(Bench& b, int requests) {
  Clock::duration ec2_time{}, control_time{};
  int ec2_calls = 0, control_calls = 0;
  for (int done = 0; done < requests; done += 200) {
    auto t0 = Clock::now();
    for (int i = 0; i < 100; ++i, ++ec2_calls) {
      lm::HttpResponse r = b.Ec2(
          "Action=RequestSpotInstances&Version=2016-11-15&SpotPrice=0.05&"
          "LaunchSpecification.InstanceType=m5.large");
      if (r.status != 200) Fail("RequestSpotInstances", r);
    }
    auto t1 = Clock::now();
    for (int i = 0; i < 100; ++i, ++control_calls) {
      lm::HttpResponse r = b.Control("POST", "/v1/aws/spot-requests",
                                     R"({"instance_type":"m5.large","max_price":0.05})");
      if (r.status != 201) Fail("POST /v1/aws/spot-requests", r);
    }
    auto t2 = Clock::now();
    ec2_time += t1 - t0;
    control_time += t2 - t1;
  }
  std::printf("RequestSpotInstances   EC2: %6d calls, %8.0f calls/s (%.3f ms/call)\n", ec2_calls,
              ec2_calls / (Ms(ec2_time) / 1000), Ms(ec2_time) / ec2_calls);
  std::printf("POST spot-requests control: %6d calls, %8.0f calls/s (%.3f ms/call)\n",
              control_calls, control_calls / (Ms(control_time) / 1000),
              Ms(control_time) / control_calls);
}

// Pages through `action` (MaxResults=1000) `rounds` times; prints per-page and per-listing times.
void Describe(Bench& b, const std::string& action, const std::string& item_tag, int rounds,
              int control_rounds, const std::string& control_target) {
  std::vector<double> pages, listings, control_listings;
  size_t items = 0, page_count = 0;
  for (int round = 0; round < rounds; ++round) {
    std::string token;
    auto start = Clock::now();
    items = 0;
    page_count = 0;
    do {
      std::string body = "Action=" + action + "&Version=2016-11-15&MaxResults=1000";
      if (!token.empty()) body += "&NextToken=" + lm::ec2::UriEncode(token, false);
      auto t0 = Clock::now();
      lm::HttpResponse r = b.Ec2(body);
      pages.push_back(Ms(Clock::now() - t0));
      if (r.status != 200) Fail(action.c_str(), r);
      for (size_t p = r.body.find("<" + item_tag + ">"); p != std::string::npos;
           p = r.body.find("<" + item_tag + ">", p + 1)) {
        ++items;
      }
      ++page_count;
      token = Between(r.body, "<nextToken>", "</nextToken>");
    } while (!token.empty());
    listings.push_back(Ms(Clock::now() - start));
    if (round >= control_rounds) continue;
    auto c0 = Clock::now();
    lm::HttpResponse r = b.Control("GET", control_target);
    control_listings.push_back(Ms(Clock::now() - c0));
    if (r.status != 200) Fail(control_target.c_str(), r);
  }
  std::printf("%s: %zu items in %zu pages of <= 1000, %d rounds (control: %zu)\n", action.c_str(),
              items, page_count, rounds, control_listings.size());
  std::printf("  EC2 per page      p50 %8.2f ms   p99 %8.2f ms\n", Percentile(pages, 0.5),
              Percentile(pages, 0.99));
  std::printf("  EC2 full listing  p50 %8.2f ms   p99 %8.2f ms\n", Percentile(listings, 0.5),
              Percentile(listings, 0.99));
  std::printf("  control GET %s (no paging) p50 %8.2f ms   p99 %8.2f ms\n", control_target.c_str(),
              Percentile(control_listings, 0.5), Percentile(control_listings, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  int instances = 10000, requests = 2000, rounds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int v = std::stoi(argv[i + 1]);  // a bad number throws, not 0
    if (!std::strcmp(argv[i], "--instances")) instances = v;
    if (!std::strcmp(argv[i], "--requests")) requests = v;
    if (!std::strcmp(argv[i], "--rounds")) rounds = v;
  }
  if (instances < requests || requests % 200 != 0 || rounds < 1) {
    std::fprintf(stderr,
                 "usage: ec2_api_bench [--instances N] [--requests R] [--rounds K] "
                 "(R a multiple of 200, N >= R)\n");
    return 64;
  }
  Bench b(instances + 10);
  SpotRequests(b, requests);
  // The rest of the fleet through RunInstances (spot, 1000 per call), so every instance is a
  // spot instance with a request.
  for (int left = instances - requests; left > 0; left -= 1000) {
    lm::HttpResponse r =
        b.Ec2("Action=RunInstances&Version=2016-11-15&InstanceType=m5.large&MinCount=1&MaxCount=" +
              std::to_string(std::min(left, 1000)) + "&InstanceMarketOptions.MarketType=spot");
    if (r.status != 200) Fail("RunInstances", r);
  }
  // The control API's full instance listing is slow at this size (see RESULTS.md): fewer rounds.
  Describe(b, "DescribeInstances", "instanceId", rounds, std::min(rounds, 3), "/v1/instances");
  Describe(b, "DescribeSpotInstanceRequests", "spotInstanceRequestId", rounds, rounds,
           "/v1/aws/spot-requests");
  return 0;
}
