#include "mockmeta/ec2api/sigv4.h"

#include <gtest/gtest.h>

namespace lastcall::mock::ec2 {
namespace {

using Query = std::map<std::string, std::string, std::less<>>;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// AWS's SigV4 test suite, case get-vanilla.
HttpRequest GetVanilla(const std::string& signature) {
  return HttpRequest::Make(
      "GET", "/",
      {{"Host", "example.amazonaws.com"},
       {"X-Amz-Date", "20150830T123600Z"},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" +
            signature}});
}

TEST(SigV4Test, ParsesTheAuthorizationHeaderAndItsScope) {
  Result<std::optional<SigV4>> sig = ParseSigV4(GetVanilla("abc"), {});
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  ASSERT_TRUE(sig->has_value());
  const SigV4& s = **sig;
  EXPECT_EQ(s.access_key, "AKIDEXAMPLE");
  EXPECT_EQ(s.region, "us-east-1");
  EXPECT_EQ(s.service, "service");
  EXPECT_EQ(s.amz_date, "20150830T123600Z");
  EXPECT_EQ(s.signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
}

TEST(SigV4Test, AwsTestSuiteGetVanillaVerifies) {
  const std::string good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  HttpRequest req = GetVanilla(good);
  SigV4 sig = **ParseSigV4(req, {});
  CredentialMap creds = {{"AKIDEXAMPLE", kSecret}};
  EXPECT_EQ(VerifySigV4(req, {}, sig, creds), SigV4Check::kOk);

  HttpRequest bad = GetVanilla(std::string(64, '0'));
  EXPECT_EQ(VerifySigV4(bad, {}, **ParseSigV4(bad, {}), creds), SigV4Check::kMismatch);
  CredentialMap other = {{"AKIDEXAMPLE", "another secret"}};
  EXPECT_EQ(VerifySigV4(req, {}, sig, other), SigV4Check::kMismatch);
  CredentialMap none = {{"SOMEONEELSE", kSecret}};
  EXPECT_EQ(VerifySigV4(req, {}, sig, none), SigV4Check::kUnknownKey);
}

TEST(SigV4Test, UnsignedAndMalformed) {
  Result<std::optional<SigV4>> none = ParseSigV4(HttpRequest::Make("POST", "/"), {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  for (const char* auth : {"AWS4-HMAC-SHA256 Credential=AK/2015/us-east-1/ec2/aws4_request",
                           "AWS AKID:sig", "AWS4-HMAC-SHA256 garbage",
                           "AWS4-HMAC-SHA256 Credential=AK, SignedHeaders=host, Signature=x"}) {
    HttpRequest req = HttpRequest::Make(
        "POST", "/", {{"Authorization", auth}, {"X-Amz-Date", "20150830T123600Z"}});
    EXPECT_FALSE(ParseSigV4(req, {}).ok()) << auth;
  }
}

TEST(SigV4Test, QuerySigningRoundTrips) {
  Query q = {{"Action", "DescribeRegions"},
             {"Version", "2016-11-15"},
             {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
             {"X-Amz-Credential", "AKID/20260407/eu-west-1/ec2/aws4_request"},
             {"X-Amz-Date", "20260407T000000Z"},
             {"X-Amz-SignedHeaders", "host"}};
  HttpRequest req = HttpRequest::Make("GET", "/", {{"Host", "127.0.0.1:8190"}});
  SigV4 sig;
  sig.in_query = true;
  sig.access_key = "AKID";
  sig.date = "20260407";
  sig.region = "eu-west-1";
  sig.service = "ec2";
  sig.amz_date = "20260407T000000Z";
  sig.signed_headers = {"host"};
  q["X-Amz-Signature"] = SignatureFor("s3cret", sig.date, sig.region, sig.service,
                                      StringToSign(sig, CanonicalRequest(req, q, sig)));
  Result<std::optional<SigV4>> parsed = ParseSigV4(req, q);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)->region, "eu-west-1");
  EXPECT_EQ(VerifySigV4(req, q, **parsed, {{"AKID", "s3cret"}}), SigV4Check::kOk);
  q["Action"] = "DescribeInstances";  // the signed parameters changed
  EXPECT_EQ(VerifySigV4(req, q, **parsed, {{"AKID", "s3cret"}}), SigV4Check::kMismatch);
}

TEST(SigV4Test, CredentialsFileNamesTheBadLine) {
  Result<CredentialMap> ok = ParseCredentials(
      "# comment\n[default]\naws_access_key_id = AKID1\naws_secret_access_key = s1\n"
      "region = us-east-1\n\n[other]\naws_access_key_id=AKID2\naws_secret_access_key=s2\n",
      "creds");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->at("AKID1"), "s1");
  EXPECT_EQ(ok->at("AKID2"), "s2");

  Result<CredentialMap> missing =
      ParseCredentials("[default]\naws_access_key_id = AKID1\n", "creds");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("creds:1:"), std::string::npos);
  Result<CredentialMap> junk = ParseCredentials("[default]\nthis is not a setting\n", "creds");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("creds:2:"), std::string::npos);
  EXPECT_FALSE(ParseCredentials("", "creds").ok());
}

}  // namespace
}  // namespace lastcall::mock::ec2
