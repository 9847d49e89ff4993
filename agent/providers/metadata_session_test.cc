#include "agent/providers/metadata_session.h"

#include <gtest/gtest.h>

#include <deque>
#include <utility>

namespace lastcall {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Answers from a script and records what was sent.
class ScriptedHttp final : public HttpClient {
 public:
  explicit ScriptedHttp(std::deque<Result<HttpResponse>>* script, std::vector<HttpRequest>* sent)
      : script_(script), sent_(sent) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    sent_->push_back(request);
    if (script_->empty()) return Internal("script exhausted");
    Result<HttpResponse> r = std::move(script_->front());
    script_->pop_front();
    return r;
  }

 private:
  std::deque<Result<HttpResponse>>* script_;
  std::vector<HttpRequest>* sent_;
};

HttpResponse Answer(int status, std::string body, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class MetadataSessionTest : public ::testing::Test {
 protected:
  MetadataSession Make() {
    return MetadataSession("http://127.0.0.1:9/aws/i-1/", std::chrono::milliseconds(250),
                           std::make_unique<ScriptedHttp>(&script_, &sent_));
  }
  std::deque<Result<HttpResponse>> script_;
  std::vector<HttpRequest> sent_;
};

TEST_F(MetadataSessionTest, EveryRequestCarriesTheRequestTimeout) {
  MetadataSession s = Make();
  script_.push_back(Answer(200, "ok"));
  HttpRequest req;
  req.url = s.Url("/latest/meta-data/instance-id");
  ASSERT_TRUE(s.Send(req).ok());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].url, "http://127.0.0.1:9/aws/i-1/latest/meta-data/instance-id");
  EXPECT_EQ(sent_[0].timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(sent_[0].connect_timeout, std::chrono::milliseconds(250));
}

TEST_F(MetadataSessionTest, AfterATimeoutTheRestOfTheBatchIsSkippedUntilTheNextBatch) {
  MetadataSession s = Make();
  script_.push_back(Timeout("timed out after 250ms"));
  script_.push_back(Answer(200, "next batch"));
  EXPECT_EQ(s.Send({}).status().code(), StatusCode::kTimeout);
  Result<HttpResponse> skipped = s.Send({});
  EXPECT_EQ(skipped.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(skipped.status().message(), "skipped: endpoint unreachable (timed out after 250ms)");
  EXPECT_EQ(sent_.size(), 1u);  // the skipped request never went out
  s.BeginBatch();
  EXPECT_TRUE(s.Send({}).ok());
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(MetadataSessionTest, HttpErrorsAndOtherFailuresSkipNothing) {
  MetadataSession s = Make();
  script_.push_back(Answer(503, ""));
  script_.push_back(ResourceExhausted("body over 65536 bytes"));
  script_.push_back(Answer(200, "x"));
  EXPECT_TRUE(s.Send({}).ok());
  EXPECT_FALSE(s.Send({}).ok());
  EXPECT_TRUE(s.Send({}).ok());
  EXPECT_EQ(sent_.size(), 3u);
}

TEST_F(MetadataSessionTest, KeepsTheLastValidDateOfTheBatch) {
  MetadataSession s = Make();
  script_.push_back(Answer(200, "", {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}}));
  script_.push_back(Answer(404, "", {{"date", "not a date"}}));
  ASSERT_TRUE(s.Send({}).ok());
  ASSERT_TRUE(s.Send({}).ok());
  ASSERT_TRUE(s.server_date().has_value());
  EXPECT_EQ(std::chrono::duration_cast<seconds>(s.server_date()->time_since_epoch()).count(),
            784111777);
  s.BeginBatch();
  EXPECT_FALSE(s.server_date().has_value());
}

// Regression (issue 11, item 3): a Date header in 2300 wrapped around and made every notice
// look past. A Date outside the representable years is ignored like any other bad Date.
TEST_F(MetadataSessionTest, ADateHeaderInTheYear2300IsIgnored) {
  MetadataSession s = Make();
  script_.push_back(Answer(200, "", {{"Date", "Mon, 01 Jan 2300 00:00:00 GMT"}}));
  ASSERT_TRUE(s.Send({}).ok());
  EXPECT_FALSE(s.server_date().has_value());
}

TEST(SessionToken, IsFreshUntilATenthOfItsLifetimeBeforeExpiryAndUsableUntilExpiry) {
  MonoTime t0{std::chrono::hours(5)};
  SessionToken token;
  EXPECT_FALSE(token.Fresh(t0));
  EXPECT_FALSE(token.Usable(t0));
  token.Store("AQAE", seconds(100), t0);
  EXPECT_EQ(token.value(), "AQAE");
  EXPECT_TRUE(token.Fresh(t0 + seconds(89)));
  EXPECT_FALSE(token.Fresh(t0 + seconds(90)));
  EXPECT_TRUE(token.Usable(t0 + seconds(99)));
  EXPECT_FALSE(token.Usable(t0 + seconds(100)));
  // Long lifetimes refresh 5 minutes early, not a tenth (36 minutes of 6 hours).
  token.Store("BQAE", std::chrono::hours(6), t0);
  EXPECT_TRUE(token.Fresh(t0 + std::chrono::hours(6) - minutes(5) - seconds(1)));
  EXPECT_FALSE(token.Fresh(t0 + std::chrono::hours(6) - minutes(5)));
  token.Clear();
  EXPECT_TRUE(token.empty());
  EXPECT_FALSE(token.Usable(t0));
}

TEST(OptionalBody, MapsStatusesToValueNoneOrANamedError) {
  const std::string url = "http://127.0.0.1:9/latest/meta-data/spot/instance-action";
  auto body = OptionalBody(Answer(200, "{}"), "spot/instance-action", url);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->value(), "{}");
  auto none = OptionalBody(Answer(404, "<html>"), "spot/instance-action", url);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto err = OptionalBody(Answer(500, ""), "spot/instance-action", url);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(err.status().message().find("spot/instance-action: "), std::string::npos);
  EXPECT_NE(err.status().message().find(url), std::string::npos);
  auto down = OptionalBody(Result<HttpResponse>(Unavailable("connection refused")), "x", url);
  EXPECT_EQ(down.status().message(), "x: connection refused");
}

TEST(RequiredValue, TrimsAndRejectsMissingOrEmptyAnswers) {
  std::string out = "unchanged";
  EXPECT_TRUE(RequiredValue(std::optional<std::string>(" i-0abc\n"), "instance-id", &out).ok());
  EXPECT_EQ(out, "i-0abc");
  out = "unchanged";
  Status missing = RequiredValue(std::optional<std::string>(), "instance-id", &out);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "instance-id: HTTP 404");
  Status empty = RequiredValue(std::optional<std::string>(" \n"), "zone-id", &out);
  EXPECT_EQ(empty.code(), StatusCode::kDataLoss);
  EXPECT_EQ(empty.message(), "zone-id: empty answer");
  EXPECT_EQ(out, "unchanged");
  Status failed = RequiredValue(Result<std::optional<std::string>>(Timeout("t")), "x", &out);
  EXPECT_EQ(failed.code(), StatusCode::kTimeout);
}

}  // namespace
}  // namespace lastcall
