// Unit tests of AlibabaProvider against a scripted HttpClient; token modes over real HTTP are
// tested in tests/integration/providers_integration_test.cc.
#include "agent/providers/alibaba_provider.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr const char* kBase = "http://ecs.test/prefix";

class FakeHttp final : public HttpClient {
 public:
  using Fn = std::function<Result<HttpResponse>(const HttpRequest&)>;
  FakeHttp(Fn fn, std::vector<HttpRequest>* log) : fn_(std::move(fn)), log_(log) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    log_->push_back(request);
    return fn_(request);
  }

 private:
  Fn fn_;
  std::vector<HttpRequest>* log_;
};

bool Is(const HttpRequest& r, std::string_view method, std::string_view path) {
  return r.method == method && r.url == std::string(kBase) + std::string(path);
}

class AlibabaProviderTest : public ::testing::Test {
 protected:
  AlibabaProvider Make(TokenMode mode, FakeHttp::Fn fn) {
    AlibabaOptions o;
    o.endpoint = kBase;
    o.token = mode;
    return AlibabaProvider(o, PollOptions{}, std::make_unique<FakeHttp>(std::move(fn), &log_),
                           clock_);
  }
  FakeClock clock_;
  std::vector<HttpRequest> log_;
};

Result<HttpResponse> Plain(const HttpRequest& r) {
  if (Is(r, "GET", "/latest/meta-data/instance-id"))
    return HttpResponse{200, "i-81nswrrhw66d56uik9ep", {}};
  if (Is(r, "GET", "/latest/meta-data/instance/spot/termination-time")) {
    return HttpResponse{200, "2020-04-07T17:03:00Z", {}};
  }
  return HttpResponse{404, "", {}};
}

TEST_F(AlibabaProviderTest, TerminationTimeBecomesRelease) {
  auto p = Make(TokenMode::kOff, Plain);
  PollResult r = p.Poll();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.notices.size(), 1u);
  const Notice& n = r.notices[0];
  EXPECT_EQ(n.id, "alibaba-release");
  EXPECT_EQ(n.kind, NoticeKind::kRelease);
  EXPECT_EQ(n.action, "release");
  EXPECT_EQ(n.deadline, ParseRfc3339("2020-04-07T17:03:00Z").value());
  EXPECT_EQ(n.source, "instance/spot/termination-time");
  for (const auto& req : log_) EXPECT_EQ(req.method, "GET");  // kOff: never a PUT
}

TEST_F(AlibabaProviderTest, GarbageTimeIsAnErrorNotANotice) {
  auto p = Make(TokenMode::kOff, [](const HttpRequest& r) -> Result<HttpResponse> {
    if (Is(r, "GET", "/latest/meta-data/instance/spot/termination-time")) {
      return HttpResponse{200, "<html>oops</html>", {}};
    }
    return Plain(r);
  });
  PollResult r = p.Poll();
  EXPECT_TRUE(r.notices.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code(), StatusCode::kDataLoss);
  EXPECT_NE(r.errors[0].message().find("instance/spot/termination-time"), std::string::npos);
}

TEST_F(AlibabaProviderTest, RequiredModeWithoutTokenSendsNoGet) {
  auto p = Make(TokenMode::kRequired, [](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "PUT") return HttpResponse{404, "", {}};
    return Plain(r);
  });
  PollResult r = p.Poll();
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(log_.size(), 1u);  // one PUT for the whole poll, and no GET
  EXPECT_EQ(log_[0].method, "PUT");
}

TEST_F(AlibabaProviderTest, AutoModeReprobesAfterAnError) {
  bool token_works = false;
  bool fail_get = false;
  auto p = Make(TokenMode::kAuto, [&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "PUT") {
      return token_works ? HttpResponse{200, "t1", {}} : HttpResponse{404, "", {}};
    }
    if (fail_get) return Result<HttpResponse>(Unavailable("reset"));
    return Plain(r);
  });
  ASSERT_TRUE(p.Poll().ok());
  EXPECT_FALSE(p.using_token());
  token_works = true;
  ASSERT_TRUE(p.Poll().ok());
  EXPECT_FALSE(p.using_token());  // no error, no new probe
  fail_get = true;
  EXPECT_FALSE(p.Poll().ok());
  fail_get = false;
  ASSERT_TRUE(p.Poll().ok());
  EXPECT_TRUE(p.using_token());  // the error made it probe again, and tokens work now
  EXPECT_EQ(log_.back().headers.size(), 1u);
  EXPECT_EQ(log_.back().headers[0].first, "X-aliyun-ecs-metadata-token");
}

TEST_F(AlibabaProviderTest, ATimeoutSkipsTheRestOfThePollSoItCostsOneTimeout) {
  bool hang = true;
  auto p = Make(TokenMode::kAuto, [&](const HttpRequest& r) -> Result<HttpResponse> {
    if (hang) return Result<HttpResponse>(Timeout("hangs"));
    if (r.method == "PUT") return HttpResponse{404, "", {}};
    return Plain(r);
  });
  PollResult r = p.Poll();
  ASSERT_EQ(log_.size(), 1u);      // the token probe timed out; nothing else was sent
  ASSERT_EQ(r.errors.size(), 1u);  // Poll reads no identity path
  for (const Status& e : r.errors) {
    EXPECT_NE(e.message().find("skipped: endpoint unreachable"), std::string::npos) << e.message();
  }
  EXPECT_NE(r.errors[0].message().find("instance/spot/termination-time"), std::string::npos);

  // A plain GET that times out also ends the poll's batch.
  log_.clear();
  hang = false;
  auto q = Make(TokenMode::kOff, [&](const HttpRequest& req) -> Result<HttpResponse> {
    if (Is(req, "GET", "/latest/meta-data/instance-id")) {
      return Result<HttpResponse>(Unavailable("connection reset"));
    }
    return Plain(req);
  });
  ASSERT_FALSE(q.FetchIdentity().ok());
  EXPECT_EQ(log_.size(), 1u);  // instance-id failed: the rest of the identity batch skipped
  // Recovery: the next poll asks again.
  EXPECT_TRUE(p.Poll().ok());
  ASSERT_EQ(p.Poll().notices.size(), 1u);
}

TEST_F(AlibabaProviderTest, IdentityPaths) {
  auto p = Make(TokenMode::kOff, [](const HttpRequest& r) -> Result<HttpResponse> {
    const std::string meta = "/latest/meta-data/";
    if (Is(r, "GET", meta + "instance-id"))
      return HttpResponse{200, "i-81nswrrhw66d56uik9ep\n", {}};
    if (Is(r, "GET", meta + "instance/instance-type")) return HttpResponse{200, "ecs.g6.large", {}};
    if (Is(r, "GET", meta + "zone-id")) return HttpResponse{200, "cn-hangzhou-i", {}};
    if (Is(r, "GET", meta + "region-id")) return HttpResponse{200, "cn-hangzhou", {}};
    return HttpResponse{404, "", {}};
  });
  auto id = p.FetchIdentity();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, (Identity{"i-81nswrrhw66d56uik9ep", "ecs.g6.large", "cn-hangzhou-i", "cn-hangzhou",
                           "alibaba"}));
}

TEST_F(AlibabaProviderTest, MissingIdentityPathIsNamed) {
  auto p = Make(TokenMode::kOff, Plain);
  auto id = p.FetchIdentity();
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("instance/instance-type"), std::string::npos);
}

}  // namespace
}  // namespace lastcall
