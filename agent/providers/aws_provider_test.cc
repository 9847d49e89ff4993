// Unit tests of AwsProvider against a scripted HttpClient; the same rules are tested over real
// HTTP in tests/integration/providers_integration_test.cc.
#include "agent/providers/aws_provider.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr const char* kBase = "http://meta.test";

// Answers by "METHOD url"; unscripted URLs get 404. Records every request.
class FakeHttp final : public HttpClient {
 public:
  struct State {
    std::map<std::string, std::deque<Result<HttpResponse>>> script;  // front is reused when last
    std::vector<HttpRequest> requests;
  };
  explicit FakeHttp(State* state) : s_(state) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    s_->requests.push_back(request);
    auto it = s_->script.find(request.method + " " + request.url);
    if (it == s_->script.end() || it->second.empty()) return HttpResponse{404, "", {}};
    Result<HttpResponse> r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return r;
  }

 private:
  State* s_;
};

HttpResponse Ok(std::string body, HttpHeaders headers = {}) {
  return HttpResponse{200, std::move(body), std::move(headers)};
}

class AwsProviderTest : public ::testing::Test {
 protected:
  AwsProviderTest() {
    Script("PUT", "/latest/api/token",
           Ok("tok", {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}}));
    Meta("instance-id", Ok("i-0abc1234"));
  }
  void Script(const std::string& method, const std::string& path, Result<HttpResponse> r) {
    state_.script[method + " " + kBase + path] = {std::move(r)};
  }
  void Meta(const std::string& path, Result<HttpResponse> r) {
    Script("GET", "/latest/meta-data/" + path, std::move(r));
  }
  AwsProvider Make() {
    AwsOptions o;
    o.endpoint = kBase;
    o.allow_imdsv1 = allow_v1_;
    return AwsProvider(o, PollOptions{}, std::make_unique<FakeHttp>(&state_), clock_);
  }
  size_t Count(const std::string& method, const std::string& path) const {
    size_t n = 0;
    for (const auto& r : state_.requests) n += (r.method == method && r.url == kBase + path);
    return n;
  }

  FakeHttp::State state_;
  FakeClock clock_;
  bool allow_v1_ = false;
};

TEST_F(AwsProviderTest, NothingVisibleIsACleanEmptyPoll) {
  auto p = Make();
  PollResult r = p.Poll();
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.notices.empty());
}

TEST_F(AwsProviderTest, InstanceActionBecomesInterruption) {
  Meta("spot/instance-action", Ok(R"({"action":"stop","time":"2017-09-18T08:22:00Z"})"));
  auto p = Make();
  PollResult r = p.Poll();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.notices.size(), 1u);
  const Notice& n = r.notices[0];
  EXPECT_EQ(n.id, "aws-interruption");
  EXPECT_EQ(n.provider, "aws");
  EXPECT_EQ(n.kind, NoticeKind::kInterruption);
  EXPECT_EQ(n.action, "stop");
  EXPECT_EQ(n.deadline, ParseRfc3339("2017-09-18T08:22:00Z").value());
  EXPECT_EQ(n.source, "spot/instance-action");
  EXPECT_EQ(n.raw, R"({"action":"stop","time":"2017-09-18T08:22:00Z"})");
}

TEST_F(AwsProviderTest, SameTimeOnBothInterruptionPathsIsOneNotice) {
  Meta("spot/instance-action", Ok(R"({"action":"hibernate","time":"2017-09-18T08:22:00Z"})"));
  Meta("spot/termination-time", Ok("2017-09-18T08:22:00Z\n"));
  auto p = Make();
  PollResult r = p.Poll();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].action, "hibernate");
  EXPECT_EQ(r.notices[0].source, "spot/instance-action");
}

TEST_F(AwsProviderTest, TerminationTimeAloneIsATerminateInterruptionWithTheSameId) {
  Meta("spot/termination-time", Ok("2017-09-18T08:22:00Z"));
  auto p = Make();
  PollResult r = p.Poll();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].action, "terminate");
  EXPECT_EQ(r.notices[0].id, "aws-interruption");
}

TEST_F(AwsProviderTest, MalformedPayloadIsAnErrorOfThatMonitorOnly) {
  Meta("spot/instance-action", Ok("{not json"));
  Meta("events/recommendations/rebalance", Ok(R"({"noticeTime":"2020-10-16T19:18:24Z"})"));
  Meta("autoscaling/target-lifecycle-state", Result<HttpResponse>(Timeout("slow")));
  auto p = Make();
  PollResult r = p.Poll();
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.errors[1].code(), StatusCode::kTimeout);
  EXPECT_NE(r.errors[1].message().find("autoscaling/target-lifecycle-state"), std::string::npos);
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].kind, NoticeKind::kRebalance);
  EXPECT_FALSE(r.notices[0].deadline.has_value());
  EXPECT_EQ(r.notices[0].notice_time, ParseRfc3339("2020-10-16T19:18:24Z").value());
}

TEST_F(AwsProviderTest, LifecycleTerminatedOnly) {
  Meta("autoscaling/target-lifecycle-state", Ok("InService"));
  auto p = Make();
  EXPECT_TRUE(p.Poll().notices.empty());
  Meta("autoscaling/target-lifecycle-state", Ok("Terminated"));
  PollResult r = p.Poll();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].kind, NoticeKind::kLifecycle);
  EXPECT_FALSE(r.notices[0].deadline.has_value());
}

TEST_F(AwsProviderTest, DisabledMonitorsAreNotRequested) {
  AwsOptions o;
  o.endpoint = kBase;
  o.watch_instance_action = o.watch_termination_time = o.watch_rebalance = false;
  o.watch_scheduled_events = o.watch_lifecycle_state = false;
  AwsProvider p(o, PollOptions{}, std::make_unique<FakeHttp>(&state_), clock_);
  EXPECT_TRUE(p.Poll().ok());
  for (const auto& req : state_.requests) {
    EXPECT_EQ(req.url.find("spot/"), std::string::npos) << req.url;
    EXPECT_EQ(req.url.find("events/"), std::string::npos) << req.url;
  }
}

TEST_F(AwsProviderTest, RequestsUseThePollTimeout) {
  AwsOptions o;
  o.endpoint = kBase;
  PollOptions poll;
  poll.request_timeout = std::chrono::milliseconds(250);
  AwsProvider p(o, poll, std::make_unique<FakeHttp>(&state_), clock_);
  (void)p.Poll();
  ASSERT_FALSE(state_.requests.empty());
  for (const auto& req : state_.requests) {
    EXPECT_EQ(req.timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(req.connect_timeout, std::chrono::milliseconds(250));
  }
}

TEST_F(AwsProviderTest, TokenRefreshedBeforeExpiryByMonotonicTime) {
  Script("PUT", "/latest/api/token", Ok("tok", {{"X-aws-ec2-metadata-token-ttl-seconds", "100"}}));
  auto p = Make();
  (void)p.Poll();
  EXPECT_EQ(Count("PUT", "/latest/api/token"), 1u);
  clock_.SetWall(clock_.Now() + std::chrono::hours(10));  // a wall step changes nothing
  clock_.Advance(std::chrono::seconds(80));
  (void)p.Poll();
  EXPECT_EQ(Count("PUT", "/latest/api/token"), 1u);
  clock_.Advance(std::chrono::seconds(11));  // 91 s: inside the refresh margin of 10 s
  (void)p.Poll();
  EXPECT_EQ(Count("PUT", "/latest/api/token"), 2u);
}

TEST_F(AwsProviderTest, NoTokenNoImdsv1MeansErrorsOnEveryMonitor) {
  Script("PUT", "/latest/api/token", Result<HttpResponse>(Unavailable("refused")));
  auto p = Make();
  PollResult r = p.Poll();
  EXPECT_EQ(r.errors.size(), 5u);  // the five monitors (Poll reads no identity path)
  EXPECT_EQ(Count("GET", "/latest/meta-data/spot/instance-action"), 0u);
  EXPECT_FALSE(p.using_imdsv1());
  // One PUT per poll, not one per path: a hanging token endpoint costs one timeout.
  EXPECT_EQ(Count("PUT", "/latest/api/token"), 1u);
  (void)p.Poll();
  EXPECT_EQ(Count("PUT", "/latest/api/token"), 2u);
}

TEST_F(AwsProviderTest, ATimeoutSkipsTheRestOfThePollSoItCostsOneTimeout) {
  Meta("spot/instance-action", Result<HttpResponse>(Timeout("hangs")));
  auto p = Make();
  PollResult r = p.Poll();
  ASSERT_EQ(r.errors.size(), 5u) << r.errors[0].ToString();
  EXPECT_EQ(r.errors[0].code(), StatusCode::kTimeout);
  ASSERT_EQ(r.errors.size(), 5u);
  for (size_t i = 1; i < r.errors.size(); ++i) {
    EXPECT_EQ(r.errors[i].code(), StatusCode::kUnavailable);
    EXPECT_NE(r.errors[i].message().find("skipped: endpoint unreachable"), std::string::npos)
        << r.errors[i].message();
  }
  EXPECT_NE(r.errors[4].message().find("autoscaling/target-lifecycle-state"), std::string::npos);
  EXPECT_EQ(state_.requests.size(), 2u);  // token, instance-action: then nothing
  EXPECT_EQ(Count("GET", "/latest/meta-data/spot/termination-time"), 0u);

  // The next poll tries again from the start; a refused connection skips the same way.
  Meta("spot/instance-action", Result<HttpResponse>(Unavailable("connection refused")));
  r = p.Poll();
  EXPECT_EQ(r.errors.size(), 5u);
  EXPECT_EQ(Count("GET", "/latest/meta-data/spot/instance-action"), 2u);
  EXPECT_EQ(Count("GET", "/latest/meta-data/spot/termination-time"), 0u);

  // HTTP errors (the server answered) skip nothing.
  Meta("spot/instance-action", HttpResponse{503, "", {}});
  r = p.Poll();
  EXPECT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(Count("GET", "/latest/meta-data/spot/termination-time"), 1u);
  EXPECT_EQ(Count("GET", "/latest/meta-data/autoscaling/target-lifecycle-state"), 1u);
}

TEST_F(AwsProviderTest, AnUnreachableEndpointSkipsTheRestOfFetchIdentity) {
  Meta("instance-id", Result<HttpResponse>(Timeout("hangs")));
  auto p = Make();
  Result<Identity> id = p.FetchIdentity();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(state_.requests.size(), 2u);  // token, instance-id
  // Poll starts a new batch and reads no identity path: a hanging instance-id cannot hide a
  // notice, and its failure cannot change a notice's key.
  PollResult r = p.Poll();
  EXPECT_EQ(r.errors.size(), 0u);
  EXPECT_EQ(Count("GET", "/latest/meta-data/instance-id"), 1u);
}

TEST_F(AwsProviderTest, RegionDerivedFromZoneWhenPathIsMissing) {
  Meta("instance-type", Ok("m5.large"));
  Meta("placement/availability-zone", Ok("us-west-2-lax-1a"));
  auto p = Make();
  auto id = p.FetchIdentity();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->region, "us-west-2");
  Meta("placement/availability-zone", Ok("eu-central-1b"));
  EXPECT_EQ(p.FetchIdentity()->region, "eu-central-1");
}

TEST_F(AwsProviderTest, DescribeNamesEndpointAndMonitors) {
  auto p = Make();
  std::string d = p.Describe();
  EXPECT_NE(d.find(kBase), std::string::npos);
  EXPECT_NE(d.find("spot/instance-action"), std::string::npos);
  EXPECT_NE(d.find("IMDSv2"), std::string::npos);
}

// Regression (issue 11, item 3): a termination time in 2300 wrapped around to 1715, so the
// notice looked past and checkpoint and drain were skipped. An absurd deadline is no usable
// deadline: the notice is reported without one (the planner gives it the advisory budget).
TEST_F(AwsProviderTest, ADeadlineInTheYear2300IsNoUsableDeadlineNeverAPastOne) {
  Meta("spot/instance-action", Ok(R"({"action":"terminate","time":"2300-01-01T00:00:00Z"})"));
  Meta("spot/termination-time", Ok("2300-01-01T00:00:00Z"));
  Meta("events/maintenance/scheduled",
       Ok(R"([{"Code":"system-reboot","EventId":"instance-event-1","State":"active",)"
          R"("NotBefore":"1 Jan 2300 00:00:00 GMT"}])"));
  auto p = Make();
  PollResult r = p.Poll();
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message());
  ASSERT_EQ(r.notices.size(), 2u);
  EXPECT_EQ(r.notices[0].kind, NoticeKind::kInterruption);
  EXPECT_EQ(r.notices[0].id, "aws-interruption");
  EXPECT_FALSE(r.notices[0].deadline.has_value());
  EXPECT_EQ(r.notices[1].kind, NoticeKind::kMaintenance);
  EXPECT_FALSE(r.notices[1].deadline.has_value());
}

}  // namespace
}  // namespace lastcall
