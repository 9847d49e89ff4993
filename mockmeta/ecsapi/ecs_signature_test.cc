// Signatures: known answers computed by the Alibaba SDK's own code (@alicloud/openapi-core's
// getRPCSignature and getAuthorization, the values below), then the handler with credentials:
// good V1 and V3 pass, a wrong secret, an unknown key and a reused nonce are refused.
#include "mockmeta/ecsapi/ecs_signature.h"

#include <gtest/gtest.h>

#include <fstream>

#include "mockmeta/ecsapi/ecs_api.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::mock::ecs {
namespace {

FormParams V1Params(const std::string& nonce) {
  FormParams p;
  p.Set("Action", "DescribeInstances");
  p.Set("Format", "json");
  p.Set("Version", "2014-05-26");
  p.Set("Timestamp", "2026-04-07T00:00:00Z");
  p.Set("SignatureNonce", nonce);
  p.Set("SignatureMethod", "HMAC-SHA1");
  p.Set("SignatureVersion", "1.0");
  p.Set("AccessKeyId", "AKID");
  p.Set("RegionId", "cn-hangzhou");
  p.Set("InstanceIds", "[\"i-a b\"]");
  return p;
}

std::string Query(const FormParams& p) {
  std::string q;
  for (const auto& [k, v] : p.all()) q += (q.empty() ? "" : "&") + k + "=" + AliPercentEncode(v);
  return q;
}

constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kSigned[] =
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";

HttpRequest V3Request(const std::string& nonce) {
  return HttpRequest::Make("POST", "/?InstanceIds=%5B%22i-a%20b%22%5D&RegionId=cn-hangzhou",
                           {{"host", "127.0.0.1:8191"},
                            {"x-acs-action", "DescribeInstances"},
                            {"x-acs-version", "2014-05-26"},
                            {"x-acs-date", "2026-04-07T00:00:00Z"},
                            {"x-acs-signature-nonce", nonce},
                            {"x-acs-content-sha256", kEmptySha},
                            {"user-agent", "x"}});
}

TEST(EcsSignatureTest, V1MatchesTheSdk) {
  EXPECT_EQ(SignV1("GET", V1Params("n-1"), "secret"), "iA3XmyxRPZofvhiIV7YbAccwWW4=");
}

TEST(EcsSignatureTest, V3MatchesTheSdk) {
  HttpRequest req = V3Request("n-2");
  FormParams q;
  ASSERT_TRUE(FormParams::DecodeInto(req.query, q).ok());
  EXPECT_EQ(SignV3(req, q, kSigned, "secret"),
            "58f26c71035e9faa2b982f3acf1027c490a9fee675997dd009cbc4a83ac7a7f9");
}

TEST(EcsSignatureTest, PercentEncodingIsAlibabas) {
  EXPECT_EQ(AliPercentEncode("a b*~/+"), "a%20b%2A~%2F%2B");
}

class EcsSignedApiTest : public ::testing::Test {
 protected:
  EcsSignedApiTest()
      : host_(clock_, Load(), ClockSpec{ClockMode::kManual, 0}),
        api_(host_,
             EcsApiOptions{.credentials = CredentialMap{{"AKID", "secret"}}, .on_change = {}}) {}
  static std::unique_ptr<World> Load() {
    auto m = ScenarioBuilder()
                 .Start("2026-04-07T00:00:00Z")
                 .Zone("cn-hangzhou-b", "cn-hangzhou")
                 .Load("t.toml");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return std::move(m).value();
  }
  std::string CodeOf(const HttpResponse& r) {
    return nlohmann::json::parse(r.body).value("Code", "");
  }
  HttpResponse V1(const std::string& nonce, const std::string& secret) {
    FormParams p = V1Params(nonce);
    p.Set("Signature", SignV1("GET", p, secret));
    return api_.Handle(HttpRequest::Make("GET", "/?" + Query(p)), {});
  }
  HttpResponse V3(const std::string& nonce, const std::string& secret, const std::string& key) {
    HttpRequest req = V3Request(nonce);
    FormParams q;
    EXPECT_TRUE(FormParams::DecodeInto(req.query, q).ok());
    req.headers.push_back({"Authorization", "ACS3-HMAC-SHA256 Credential=" + key +
                                                ",SignedHeaders=" + kSigned +
                                                ",Signature=" + SignV3(req, q, kSigned, secret)});
    return api_.Handle(req, {});
  }

  FakeClock clock_;
  MarketHost host_;
  EcsApi api_;
};

TEST_F(EcsSignedApiTest, GoodSignaturesPassBadOnesAndReusedNoncesAreRefused) {
  EXPECT_EQ(V1("a", "secret").status, 200);
  EXPECT_EQ(V3("b", "secret", "AKID").status, 200);
  HttpResponse r = V1("c", "wrong");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(CodeOf(r), "SignatureDoesNotMatch");
  r = V3("d", "wrong", "AKID");
  EXPECT_EQ(CodeOf(r), "SignatureDoesNotMatch");
  r = V3("e", "secret", "NOSUCHKEY");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(CodeOf(r), "InvalidAccessKeyId.NotFound");
  r = V1("a", "secret");
  EXPECT_EQ(CodeOf(r), "SignatureNonceUsed");
  r = V3("b", "secret", "AKID");
  EXPECT_EQ(CodeOf(r), "SignatureNonceUsed");
  r = api_.Handle(HttpRequest::Make("GET", "/?Action=DescribeRegions&Version=2014-05-26"), {});
  EXPECT_EQ(CodeOf(r), "IncompleteSignature");
  r = api_.Handle(HttpRequest::Make("GET", "/?Action=DescribeRegions&Version=2014-05-26",
                                    {{"Authorization", "ACS3-HMAC-SHA256 Credential=AKID"}}),
                  {});
  EXPECT_EQ(CodeOf(r), "IncompleteSignature");
}

TEST(EcsCredentialsTest, ReadsAliyunConfigAndNamesWhatIsWrong) {
  const std::string path = ::testing::TempDir() + "/ecs_credentials_test.json";
  {
    std::ofstream f(path);
    f << R"({"profiles":[{"name":"default","mode":"AK","access_key_id":"AK1",)"
      << R"("access_key_secret":"S1"}]})";
  }
  Result<CredentialMap> c = LoadAlibabaCredentials(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->at("AK1"), "S1");
  {
    std::ofstream f(path);
    f << R"({"profiles":[{"name":"x","access_key_id":"AK1"}]})";
  }
  c = LoadAlibabaCredentials(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("profiles[0]"), std::string::npos);
}

}  // namespace
}  // namespace lastcall::mock::ecs
