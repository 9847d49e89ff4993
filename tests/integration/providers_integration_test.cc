// AwsProvider, AlibabaProvider and cloud detection over real HTTP (the production HttpClient)
// against the loopback test server playing IMDS / ECS metadata, with a path prefix in the endpoint
// as a mockmeta instance would have. Time that the providers read is a FakeClock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "agent/providers/alibaba_provider.h"
#include "agent/providers/aws_provider.h"
#include "agent/providers/cloud_detect.h"
#include "common/time_format.h"
#include "tests/support/test_http_server.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::RecordedRequest;
using testing::TestHttpServer;
using testing::TestResponse;

constexpr const char* kPrefix = "/aws/i-1";
constexpr const char* kAwsTtl = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr const char* kAwsToken = "X-aws-ec2-metadata-token";
constexpr const char* kAliTtl = "X-aliyun-ecs-metadata-token-ttl-seconds";
constexpr const char* kAliToken = "X-aliyun-ecs-metadata-token";

WallTime T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

// An IMDS on the test server: tokens "tok1", "tok2", ... handed out by PUT; GETs with a token
// that is not the current one get 401 (and, when v2 is required, GETs without one too).
class FakeImds {
 public:
  explicit FakeImds(TestHttpServer& server, std::string prefix = kPrefix)
      : server_(server), prefix_(std::move(prefix)) {
    server_.SetHandler("PUT", prefix_ + "/latest/api/token", [this](const RecordedRequest& r) {
      std::lock_guard lock(mu_);
      auto ttl = r.Header(kAwsTtl);
      if (!ttl) return TestResponse::Status(400, "missing TTL");
      current_ = "tok" + std::to_string(++issued_);
      TestResponse resp = TestResponse::Text(current_);
      if (echo_ttl_) resp.WithHeader(kAwsTtl, *ttl);
      return resp;
    });
    Meta("instance-id", "i-0abc1234");
  }
  std::string endpoint() const { return server_.url() + prefix_; }
  void Meta(const std::string& path, const std::string& body) {
    Meta(path, TestResponse::Text(body));
  }
  void Meta(const std::string& path, const TestResponse& response) {
    server_.SetHandler("GET", prefix_ + "/latest/meta-data/" + path,
                       [this, response](const RecordedRequest& r) {
                         std::lock_guard lock(mu_);
                         auto token = r.Header(kAwsToken);
                         if (token ? *token != current_ : require_v2_) {
                           return TestResponse::Status(401);
                         }
                         return response;
                       });
  }
  // Forgets the current token, as when it expires on the server's side.
  void ExpireToken() {
    std::lock_guard lock(mu_);
    current_ = "expired";
  }
  void set_echo_ttl(bool v) {
    std::lock_guard lock(mu_);
    echo_ttl_ = v;
  }
  void set_require_v2(bool v) {
    std::lock_guard lock(mu_);
    require_v2_ = v;
  }
  size_t Puts() const { return server_.RequestCount("PUT", prefix_ + "/latest/api/token"); }
  size_t Gets(const std::string& path) const {
    return server_.RequestCount("GET", prefix_ + "/latest/meta-data/" + path);
  }

 private:
  TestHttpServer& server_;
  std::string prefix_;
  std::mutex mu_;
  std::string current_ = "none";
  int issued_ = 0;
  bool echo_ttl_ = true;
  bool require_v2_ = true;
};

class AwsIntegrationTest : public ::testing::Test {
 public:
  // The handlers point into imds_: no request may reach them once it is gone.
  ~AwsIntegrationTest() override { server_.Stop(); }

 protected:
  AwsIntegrationTest() : imds_(server_) {
    options_.endpoint = imds_.endpoint();
    poll_.request_timeout = milliseconds(300);
  }
  std::unique_ptr<AwsProvider> Make() {
    return std::make_unique<AwsProvider>(options_, poll_, MakeHttpClient(), clock_);
  }

  TestHttpServer server_;
  FakeImds imds_;
  FakeClock clock_;
  AwsOptions options_;
  PollOptions poll_;
};

TEST_F(AwsIntegrationTest, TokenTtlHeaderSentAndTokenOnEveryGetUnderThePrefix) {
  options_.token_ttl = seconds(300);
  auto p = Make();
  PollResult r = p->Poll();
  EXPECT_TRUE(r.ok()) << r.errors[0].ToString();
  auto reqs = server_.Requests();
  ASSERT_GE(reqs.size(), 6u);  // token, five monitors (a poll reads no identity path)
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].Header(kAwsTtl), "300");
  for (size_t i = 1; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].method, "GET");
    EXPECT_TRUE(reqs[i].path.starts_with(std::string(kPrefix) + "/latest/meta-data/"))
        << reqs[i].path;
    EXPECT_EQ(reqs[i].Header(kAwsToken), "tok1") << reqs[i].path;
  }
  for (const char* path :
       {"spot/instance-action", "spot/termination-time", "events/recommendations/rebalance",
        "events/maintenance/scheduled", "autoscaling/target-lifecycle-state"}) {
    EXPECT_EQ(imds_.Gets(path), 1u) << path;
  }
}

TEST_F(AwsIntegrationTest, TokenReusedThenRefreshedBeforeExpiry) {
  options_.token_ttl = seconds(60);
  auto p = Make();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(p->Poll().ok());
    clock_.Advance(seconds(10));  // 40 s after the token at the last poll
  }
  EXPECT_EQ(imds_.Puts(), 1u);
  clock_.Advance(seconds(5));  // 55 s: past the refresh point (60 s - 6 s), before expiry
  ASSERT_TRUE(p->Poll().ok());
  EXPECT_EQ(imds_.Puts(), 2u);
  EXPECT_EQ(server_.Requests().back().Header(kAwsToken), "tok2");
}

TEST_F(AwsIntegrationTest, TokenAnswerWithoutTtlHeaderIsAccepted) {
  imds_.set_echo_ttl(false);
  imds_.Meta("spot/instance-action", R"({"action":"terminate","time":"2017-09-18T08:22:00Z"})");
  auto p = Make();
  PollResult r = p->Poll();
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.notices.size(), 1u);
  ASSERT_TRUE(p->Poll().ok());
  EXPECT_EQ(imds_.Puts(), 1u);  // and reused like any other token
}

TEST_F(AwsIntegrationTest, On401ANewTokenAndOneRetry) {
  imds_.Meta("spot/instance-action", R"({"action":"terminate","time":"2017-09-18T08:22:00Z"})");
  auto p = Make();
  ASSERT_TRUE(p->Poll().ok());
  imds_.ExpireToken();
  server_.ClearRequests();
  PollResult r = p->Poll();
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(imds_.Puts(), 1u);                        // one new token, then every monitor used it
  EXPECT_EQ(imds_.Gets("spot/instance-action"), 2u);  // 401, then the retry
  EXPECT_EQ(imds_.Gets("spot/termination-time"), 1u);
}

TEST_F(AwsIntegrationTest, Persistent401IsRetriedOnlyOnce) {
  imds_.Meta("spot/instance-action", R"({"action":"terminate","time":"2017-09-18T08:22:00Z"})");
  server_.Set("GET", std::string(kPrefix) + "/latest/meta-data/spot/termination-time",
              TestResponse::Status(401));
  auto p = Make();
  PollResult r = p->Poll();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.errors[0].message().find("spot/termination-time"), std::string::npos);
  EXPECT_EQ(imds_.Gets("spot/termination-time"), 2u);
  EXPECT_EQ(r.notices.size(), 1u);  // the other monitors still report
}

TEST_F(AwsIntegrationTest, NoImdsv1UnlessAllowed) {
  server_.Set("PUT", std::string(kPrefix) + "/latest/api/token", TestResponse::Status(403));
  imds_.set_require_v2(false);
  imds_.Meta("spot/instance-action", R"({"action":"stop","time":"2017-09-18T08:22:00Z"})");
  {
    auto p = Make();
    PollResult r = p->Poll();
    EXPECT_TRUE(r.notices.empty());
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.errors[0].message().find("IMDSv2 token"), std::string::npos);
    EXPECT_EQ(imds_.Gets("spot/instance-action"), 0u);
  }
  options_.allow_imdsv1 = true;
  auto p = Make();
  PollResult r = p->Poll();
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_TRUE(p->using_imdsv1());
  EXPECT_EQ(server_.Requests().back().Header(kAwsToken), std::nullopt);
  // The token is not asked for on every poll, only again after a while.
  const size_t puts = imds_.Puts();
  ASSERT_TRUE(p->Poll().ok());
  EXPECT_EQ(imds_.Puts(), puts);
  clock_.Advance(seconds(61));
  ASSERT_TRUE(p->Poll().ok());
  EXPECT_EQ(imds_.Puts(), puts + 1);
}

TEST_F(AwsIntegrationTest, NotFoundServerErrorTimeoutAndMalformedJson) {
  server_.Set("GET", std::string(kPrefix) + "/latest/meta-data/spot/instance-action",
              TestResponse::Status(503));
  imds_.Meta("spot/termination-time", "2017-09-18T08:22:00Z");
  imds_.Meta("events/recommendations/rebalance", "[]");  // not an object: malformed
  imds_.Meta("events/maintenance/scheduled", "[{\"Code\":");
  // The last monitor hangs (a timeout skips whatever follows it in the same poll).
  imds_.Meta("autoscaling/target-lifecycle-state",
             TestResponse::Text("InService").WithDelay(seconds(5)));
  auto p = Make();
  PollResult r = p->Poll();
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(r.errors[0].message().find("spot/instance-action"), std::string::npos);
  EXPECT_NE(r.errors[0].message().find("503"), std::string::npos);
  EXPECT_EQ(r.errors[1].code(), StatusCode::kDataLoss);
  EXPECT_NE(r.errors[1].message().find("events/recommendations/rebalance"), std::string::npos);
  EXPECT_EQ(r.errors[2].code(), StatusCode::kDataLoss);
  EXPECT_NE(r.errors[2].message().find("events/maintenance/scheduled"), std::string::npos);
  EXPECT_EQ(r.errors[3].code(), StatusCode::kTimeout);
  EXPECT_NE(r.errors[3].message().find("autoscaling/target-lifecycle-state"), std::string::npos);
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].source, "spot/termination-time");
  EXPECT_EQ(r.notices[0].action, "terminate");
  server_.Stop();
}

TEST_F(AwsIntegrationTest, ServerDateFromTheDateHeader) {
  const WallTime date = T("2026-04-07T22:26:58Z");
  server_.SetDate(date);
  auto p = Make();
  EXPECT_EQ(p->Poll().server_date, date);
  server_.SetDate(std::nullopt);
  EXPECT_EQ(p->Poll().server_date, std::nullopt);
}

TEST_F(AwsIntegrationTest, OneConnectionForManyPolls) {
  auto p = Make();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->Poll().ok());
  EXPECT_EQ(server_.Requests().size(), 26u);  // one token, 5 x 5 monitors
  EXPECT_EQ(server_.ConnectionsAccepted(), 1);
}

TEST_F(AwsIntegrationTest, InterruptionOnBothPathsIsOneNoticeStableAcrossRestarts) {
  imds_.Meta("spot/instance-action", R"({"action":"hibernate","time":"2017-09-18T08:22:00Z"})");
  imds_.Meta("spot/termination-time", "2017-09-18T08:22:00Z");
  imds_.Meta("events/recommendations/rebalance", R"({"noticeTime":"2017-09-18T08:20:00Z"})");
  PollResult first = Make()->Poll();
  clock_.Advance(seconds(3600));
  PollResult again = Make()->Poll();  // a restarted agent, an hour later
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.notices.size(), 2u);
  EXPECT_EQ(first.notices, again.notices);
  EXPECT_EQ(first.notices[0].id, "aws-interruption");
  EXPECT_EQ(first.notices[0].action, "hibernate");
  EXPECT_EQ(first.notices[0].deadline, T("2017-09-18T08:22:00Z"));
  EXPECT_EQ(first.notices[1].id, "aws-rebalance");
  EXPECT_EQ(first.notices[1].kind, NoticeKind::kRebalance);
  EXPECT_EQ(first.notices[1].deadline, std::nullopt);
}

TEST_F(AwsIntegrationTest, MaintenanceEventsStatesUnpaddedDaysMissingNotAfter) {
  imds_.Meta("events/maintenance/scheduled", R"([
    {"Code":"system-reboot","Description":"scheduled reboot","EventId":"instance-event-0d59937288b749b32",
     "NotBefore":"1 Feb 2019 09:00:43 GMT","NotAfter":"1 Feb 2019 09:17:23 GMT","State":"active"},
    {"Code":"instance-stop","EventId":"instance-event-1","NotBefore":"21 Jan 2019 09:00:43 GMT",
     "State":"canceled"},
    {"Code":"instance-retirement","EventId":"instance-event-2","NotBefore":"3 Jan 2019 00:00:00 GMT",
     "NotAfter":"4 Jan 2019 00:00:00 GMT","State":"completed"}])");
  auto p = Make();
  PollResult r = p->Poll();
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.notices.size(), 3u);
  EXPECT_EQ(r.notices[0].id, "aws-maintenance-instance-event-0d59937288b749b32");
  EXPECT_EQ(r.notices[0].kind, NoticeKind::kMaintenance);
  EXPECT_EQ(r.notices[0].state, NoticeState::kActive);
  EXPECT_EQ(r.notices[0].action, "system-reboot");
  EXPECT_EQ(r.notices[0].deadline, T("2019-02-01T09:00:43Z"));
  EXPECT_EQ(r.notices[1].state, NoticeState::kCanceled);
  EXPECT_EQ(r.notices[1].deadline, T("2019-01-21T09:00:43Z"));
  EXPECT_EQ(r.notices[2].state, NoticeState::kCompleted);
  EXPECT_EQ(r.notices[2].action, "instance-retirement");

  imds_.Meta("events/maintenance/scheduled", "[]");
  r = p->Poll();
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.notices.empty());
  server_.Remove("GET", std::string(kPrefix) + "/latest/meta-data/events/maintenance/scheduled");
  r = p->Poll();
  EXPECT_TRUE(r.ok());  // 404 means none too
  EXPECT_TRUE(r.notices.empty());
}

TEST_F(AwsIntegrationTest, LifecycleTerminated) {
  imds_.Meta("autoscaling/target-lifecycle-state", "InService");
  auto p = Make();
  EXPECT_TRUE(p->Poll().notices.empty());
  imds_.Meta("autoscaling/target-lifecycle-state", "Terminated");
  PollResult r = p->Poll();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].kind, NoticeKind::kLifecycle);
  EXPECT_EQ(r.notices[0].deadline, std::nullopt);
}

TEST_F(AwsIntegrationTest, IdentityWithRegionDerivedWhenMissing) {
  imds_.Meta("instance-type", "m5.large");
  imds_.Meta("placement/availability-zone", "us-east-1a");
  auto p = Make();
  auto id = p->FetchIdentity();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, (Identity{"i-0abc1234", "m5.large", "us-east-1a", "us-east-1", "aws"}));
  imds_.Meta("placement/region", "us-east-1x");
  EXPECT_EQ(p->FetchIdentity()->region, "us-east-1x");  // the path wins when present
}

// ---------------------------------------------------------------------------------------------
// Alibaba: tokens "t1", "t2", ...; `required` makes plain GETs 403; `offer` makes PUT work.
class FakeEcs {
 public:
  explicit FakeEcs(TestHttpServer& server, std::string prefix = "/ali/i-2")
      : server_(server), prefix_(std::move(prefix)) {
    server_.SetHandler("PUT", prefix_ + "/latest/api/token", [this](const RecordedRequest& r) {
      std::lock_guard lock(mu_);
      if (!offer_) return TestResponse::Status(404);
      if (!r.Header(kAliTtl)) return TestResponse::Status(400);
      current_ = "t" + std::to_string(++issued_);
      return TestResponse::Text(current_);
    });
    Meta("instance-id", "i-81nswrrhw66d56uik9ep");
  }
  std::string endpoint() const { return server_.url() + prefix_; }
  void Meta(const std::string& path, const std::string& body) {
    server_.SetHandler("GET", prefix_ + "/latest/meta-data/" + path,
                       [this, body](const RecordedRequest& r) {
                         std::lock_guard lock(mu_);
                         auto token = r.Header(kAliToken);
                         if (token && *token != current_) return TestResponse::Status(401);
                         if (!token && required_) return TestResponse::Status(403);
                         return TestResponse::Text(body);
                       });
  }
  void set_offer(bool v) {
    std::lock_guard lock(mu_);
    offer_ = v;
  }
  void set_required(bool v) {
    std::lock_guard lock(mu_);
    required_ = v;
  }
  void ExpireToken() {
    std::lock_guard lock(mu_);
    current_ = "expired";
  }
  size_t Puts() const { return server_.RequestCount("PUT", prefix_ + "/latest/api/token"); }

 private:
  TestHttpServer& server_;
  std::string prefix_;
  std::mutex mu_;
  std::string current_ = "none";
  int issued_ = 0;
  bool offer_ = true;
  bool required_ = false;
};

class AlibabaIntegrationTest : public ::testing::Test {
 public:
  ~AlibabaIntegrationTest() override { server_.Stop(); }

 protected:
  AlibabaIntegrationTest() : ecs_(server_) {
    options_.endpoint = ecs_.endpoint();
    poll_.request_timeout = milliseconds(300);
    ecs_.Meta("instance/spot/termination-time", "2020-04-07T17:03:00Z");
  }
  std::unique_ptr<AlibabaProvider> Make(TokenMode mode) {
    options_.token = mode;
    return std::make_unique<AlibabaProvider>(options_, poll_, MakeHttpClient(), clock_);
  }
  static void ExpectRelease(const PollResult& r) {
    ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
    ASSERT_EQ(r.notices.size(), 1u);
    EXPECT_EQ(r.notices[0].id, "alibaba-release");
    EXPECT_EQ(r.notices[0].kind, NoticeKind::kRelease);
    EXPECT_EQ(r.notices[0].action, "release");
    EXPECT_EQ(r.notices[0].deadline, T("2020-04-07T17:03:00Z"));
  }
  std::optional<std::string> LastToken() const {
    return server_.Requests().back().Header(kAliToken);
  }

  TestHttpServer server_;
  FakeEcs ecs_;
  FakeClock clock_;
  AlibabaOptions options_;
  PollOptions poll_;
};

TEST_F(AlibabaIntegrationTest, OffModeUsesPlainGetsAndReports403) {
  auto p = Make(TokenMode::kOff);
  ExpectRelease(p->Poll());
  EXPECT_EQ(ecs_.Puts(), 0u);
  EXPECT_EQ(LastToken(), std::nullopt);
  ecs_.set_required(true);
  PollResult r = p->Poll();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors.back().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ecs_.Puts(), 0u);
}

TEST_F(AlibabaIntegrationTest, RequiredModeSendsTokensAndReusesThem) {
  options_.token_ttl = seconds(120);
  auto p = Make(TokenMode::kRequired);
  ExpectRelease(p->Poll());
  ExpectRelease(p->Poll());
  EXPECT_EQ(ecs_.Puts(), 1u);
  EXPECT_EQ(server_.Requests()[0].Header(kAliTtl), "120");
  EXPECT_EQ(LastToken(), "t1");
  clock_.Advance(seconds(110));  // within the refresh margin
  ExpectRelease(p->Poll());
  EXPECT_EQ(ecs_.Puts(), 2u);
  EXPECT_EQ(LastToken(), "t2");
}

TEST_F(AlibabaIntegrationTest, RequiredModeWithoutTokenIsAnError) {
  ecs_.set_offer(false);
  auto p = Make(TokenMode::kRequired);
  PollResult r = p->Poll();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.notices.empty());
  EXPECT_EQ(server_.RequestCount("GET", "/ali/i-2/latest/meta-data/instance/spot/termination-time"),
            0u);
}

TEST_F(AlibabaIntegrationTest, On401ANewTokenAndOneRetry) {
  auto p = Make(TokenMode::kRequired);
  ExpectRelease(p->Poll());
  ecs_.ExpireToken();
  ExpectRelease(p->Poll());
  EXPECT_EQ(ecs_.Puts(), 2u);
  EXPECT_EQ(LastToken(), "t2");
}

TEST_F(AlibabaIntegrationTest, AutoModeUsesTokensWhenOffered) {
  auto p = Make(TokenMode::kAuto);
  ExpectRelease(p->Poll());
  EXPECT_TRUE(p->using_token());
  EXPECT_EQ(LastToken(), "t1");
}

TEST_F(AlibabaIntegrationTest, AutoModeProbesOnceAndGoesPlainWhenNotOffered) {
  ecs_.set_offer(false);
  auto p = Make(TokenMode::kAuto);
  for (int i = 0; i < 3; ++i) ExpectRelease(p->Poll());
  EXPECT_FALSE(p->using_token());
  EXPECT_EQ(ecs_.Puts(), 1u);
  EXPECT_EQ(LastToken(), std::nullopt);
}

TEST_F(AlibabaIntegrationTest, AutoModeSwitchesToTokensOn403) {
  ecs_.set_offer(false);
  auto p = Make(TokenMode::kAuto);
  ExpectRelease(p->Poll());
  EXPECT_FALSE(p->using_token());
  // The instance is switched to hardened mode: plain GETs now get 403.
  ecs_.set_offer(true);
  ecs_.set_required(true);
  ExpectRelease(p->Poll());  // the same poll switches and retries
  EXPECT_TRUE(p->using_token());
  EXPECT_EQ(LastToken(), "t1");
}

TEST_F(AlibabaIntegrationTest, ServerDateAndDescribe) {
  const WallTime date = T("2026-04-07T22:26:58Z");
  server_.SetDate(date);
  auto p = Make(TokenMode::kAuto);
  EXPECT_EQ(p->Poll().server_date, date);
  const std::string d = p->Describe();
  EXPECT_NE(d.find(ecs_.endpoint()), std::string::npos) << d;
  EXPECT_NE(d.find("instance/spot/termination-time"), std::string::npos) << d;
  EXPECT_NE(d.find("token auto, in use"), std::string::npos) << d;
}

TEST_F(AlibabaIntegrationTest, IdentityAndNotFoundMeansNoNotice) {
  ecs_.Meta("instance/instance-type", "ecs.g6.large");
  ecs_.Meta("zone-id", "cn-hangzhou-i");
  ecs_.Meta("region-id", "cn-hangzhou");
  server_.Remove("GET", "/ali/i-2/latest/meta-data/instance/spot/termination-time");
  auto p = Make(TokenMode::kAuto);
  auto id = p->FetchIdentity();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, (Identity{"i-81nswrrhw66d56uik9ep", "ecs.g6.large", "cn-hangzhou-i", "cn-hangzhou",
                           "alibaba"}));
  PollResult r = p->Poll();
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.notices.empty());
}

// ---------------------------------------------------------------------------------------------
class DetectIntegrationTest : public ::testing::Test {
 public:
  ~DetectIntegrationTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dmi_, ec);
  }

 protected:
  DetectIntegrationTest() {
    dmi_ =
        std::filesystem::temp_directory_path() / ("lastcall-dmi-it-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dmi_);
    config_.detect.dmi_dir = dmi_.string();
    config_.detect.probe_timeout = milliseconds(200);
    // Both endpoints point at the test server unless a test says otherwise; nothing routed yet.
    config_.aws.endpoint = aws_.url() + "/aws";
    config_.alibaba.endpoint = ali_.url() + "/ali";
  }
  Result<ProviderChoice> Detect() { return DetectProvider(config_, *http_); }

  TestHttpServer aws_, ali_;
  std::filesystem::path dmi_;
  Config config_;
  std::unique_ptr<HttpClient> http_ = MakeHttpClient();
};

TEST_F(DetectIntegrationTest, AwsByTokenProbe) {
  aws_.Set("PUT", "/aws/latest/api/token", TestResponse::Text("tok"));
  EXPECT_EQ(Detect().value(), ProviderChoice::kAws);
  EXPECT_EQ(aws_.Requests()[0].Header(kAwsTtl), "60");
  EXPECT_TRUE(ali_.Requests().empty());
}

TEST_F(DetectIntegrationTest, AwsImdsv1OnlyByZoneProbe) {
  aws_.Set("PUT", "/aws/latest/api/token", TestResponse::Status(405));
  aws_.Set("GET", "/aws/latest/meta-data/placement/availability-zone",
           TestResponse::Text("us-east-1a"));
  EXPECT_EQ(Detect().value(), ProviderChoice::kAws);
}

TEST_F(DetectIntegrationTest, AlibabaByZoneIdProbeIncludingHardenedMode) {
  ali_.Set("GET", "/ali/latest/meta-data/zone-id", TestResponse::Text("cn-hangzhou-i"));
  EXPECT_EQ(Detect().value(), ProviderChoice::kAlibaba);
  ali_.Set("GET", "/ali/latest/meta-data/zone-id", TestResponse::Status(403));
  EXPECT_EQ(Detect().value(), ProviderChoice::kAlibaba);
}

TEST_F(DetectIntegrationTest, HangingEndpointsAreBoundedByTheProbeTimeout) {
  aws_.SetDefault(TestResponse::Text("late").WithDelay(seconds(10)));
  ali_.SetDefault(TestResponse::Text("late").WithDelay(seconds(10)));
  const MonoTime start = SystemClock::Instance().Monotonic();
  auto r = Detect();
  const auto took = SystemClock::Instance().Monotonic() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("timeout"), std::string::npos) << r.status().message();
  EXPECT_LT(took, seconds(3));
  aws_.Stop();
  ali_.Stop();
}

TEST_F(DetectIntegrationTest, DmiWinsOverProbesAndMakeProviderWorksEndToEnd) {
  std::ofstream(dmi_ / "sys_vendor") << "Alibaba Cloud\n";
  std::ofstream(dmi_ / "product_name") << "Alibaba Cloud ECS\n";
  aws_.Set("PUT", "/aws/latest/api/token", TestResponse::Text("tok"));  // must not be asked
  FakeEcs ecs(ali_, "/ali");
  ecs.Meta("instance/spot/termination-time", "2020-04-07T17:03:00Z");
  FakeClock clock;
  auto p = MakeProvider(config_, clock);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->name(), "alibaba");
  EXPECT_TRUE(aws_.Requests().empty());
  PollResult r = (*p)->Poll();
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].kind, NoticeKind::kRelease);
}

}  // namespace
}  // namespace lastcall
