// The EC2 handler in process: a request in, EC2's XML (or error document) out, over a real
// Market on a manual virtual clock.
#include "mockmeta/ec2api/ec2_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mockmeta/core/event_log.h"
#include "mockmeta/testing/scenario_builder.h"

namespace lastcall::mock::ec2 {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Two regions, a pool in each.
ScenarioBuilder Scenario() {
  return ScenarioBuilder()
      .Start("2026-04-07T00:00:00Z")
      .Aws()
      .Zone("eu-west-1a", "eu-west-1")
      .Type("c5.xlarge", 4, 8, 0.17)
      .Pool("m5.large", "us-east-1a", 3, 0.03)
      .Pool("c5.xlarge", "eu-west-1a", 2, 0.05);
}

std::string Encode(std::string_view s) { return UriEncode(s, false); }

// The text of the first <tag> in `xml` ("" when absent).
std::string First(const std::string& xml, const std::string& tag, size_t from = 0) {
  const size_t a = xml.find("<" + tag + ">", from);
  if (a == std::string::npos) return "";
  const size_t start = a + tag.size() + 2;
  return xml.substr(start, xml.find("</" + tag + ">", start) - start);
}
std::vector<std::string> All(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  for (size_t p = xml.find("<" + tag + ">"); p != std::string::npos;
       p = xml.find("<" + tag + ">", p + 1)) {
    out.push_back(First(xml, tag, p));
  }
  return out;
}

class Ec2ApiTest : public ::testing::Test {
 protected:
  Ec2ApiTest() : host_(clock_, Load(), ClockSpec{ClockMode::kManual, 0}), api_(host_) {}

  static std::unique_ptr<World> Load() {
    auto m = Scenario().Load("t.toml");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return std::move(m).value();
  }

  // POSTs Action=<action>&<params> (params already "k=v&k=v", values encoded by the caller).
  HttpResponse Call(const std::string& action, const std::string& params = "",
                    HttpHeaders headers = {}) {
    std::string body = "Action=" + action + "&Version=2016-11-15";
    if (!params.empty()) body += "&" + params;
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    return api_.Handle(HttpRequest::Make("POST", "/", std::move(headers), std::move(body)), {});
  }
  std::string Ok(const std::string& action, const std::string& params = "") {
    HttpResponse r = Call(action, params);
    EXPECT_EQ(r.status, 200) << action << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr("<" + action + "Response xmlns=\"" + std::string(kEc2Namespace) +
                                  "\"><requestId>"));
    return r.body;
  }
  // Expects EC2's error document with `code` and `status`.
  std::string Fails(const std::string& action, const std::string& params, const std::string& code,
                    int status = 400) {
    HttpResponse r = Call(action, params);
    EXPECT_EQ(r.status, status) << action << ": " << r.body;
    EXPECT_EQ(First(r.body, "Code"), code) << r.body;
    EXPECT_THAT(r.body, HasSubstr("<Response><Errors><Error><Code>"));
    EXPECT_FALSE(First(r.body, "RequestID").empty());
    return First(r.body, "Message");
  }
  void SetPrice(double price) {
    host_.With([&](Market& m, VirtualClock&) {
      ASSERT_TRUE(m.SetSpotPrice("m5.large@us-east-1a", price, cause::kUser).ok());
      ASSERT_TRUE(m.AdvanceTo(m.now()).ok());
    });
  }
  void Advance(Duration d) {
    host_.With([&](Market& m, VirtualClock& c) {
      ASSERT_TRUE(c.Advance(d).ok());
      ASSERT_TRUE(m.AdvanceTo(c.Now()).ok());
    });
  }
  size_t InstanceCount() {
    return host_.With([](Market& m, VirtualClock&) { return m.instances().size(); });
  }
  size_t RequestCount() {
    return host_.WithWorld([](World& w, VirtualClock&) { return w.aws().requests().size(); });
  }
  std::string RequestOne(const std::string& extra = "") {
    std::string body = Ok("RequestSpotInstances",
                          "LaunchSpecification.InstanceType=m5.large&SpotPrice=0.05" + extra);
    return First(body, "spotInstanceRequestId");
  }

  FakeClock clock_;
  MarketHost host_;
  Ec2Api api_;
};

TEST_F(Ec2ApiTest, UnknownAndMissingActions) {
  EXPECT_THAT(Fails("LaunchRocket", "", "InvalidAction"), HasSubstr("LaunchRocket"));
  HttpResponse r = api_.Handle(HttpRequest::Make("POST", "/", {}, "Version=2016-11-15"), {});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(First(r.body, "Code"), "MissingAction");
  EXPECT_EQ(r.content_type, "text/xml;charset=UTF-8");
}

TEST_F(Ec2ApiTest, MalformedFormBodyIsRefusedAndTheNextRequestIsServed) {
  HttpResponse bad =
      api_.Handle(HttpRequest::Make("POST", "/", {}, "Action=DescribeRegions&X=%zz"), {});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(First(bad.body, "Code"), "MalformedQueryString");
  HttpResponse dup = api_.Handle(
      HttpRequest::Make("POST", "/", {}, "Action=DescribeRegions&Action=RunInstances"), {});
  EXPECT_EQ(First(dup.body, "Code"), "MalformedQueryString");
  HttpResponse json =
      api_.Handle(HttpRequest::Make("POST", "/", {{"Content-Type", "application/json"}}, "{}"), {});
  EXPECT_EQ(First(json.body, "Code"), "MalformedQueryString");
  Ok("DescribeRegions");
}

TEST_F(Ec2ApiTest, GetWithQueryStringWorks) {
  HttpResponse r =
      api_.Handle(HttpRequest::Make("GET", "/?Action=DescribeRegions&Version=2016-11-15"), {});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(All(r.body, "regionName"), (std::vector<std::string>{"eu-west-1", "us-east-1"}));
}

TEST_F(Ec2ApiTest, RequestSpotInstancesIsFulfilledAtOnceAndDescribed) {
  const std::string body = Ok("RequestSpotInstances",
                              "LaunchSpecification.InstanceType=m5.large&SpotPrice=0.05&"
                              "InstanceCount=2&TagSpecification.1.ResourceType=spot-instances-"
                              "request&TagSpecification.1.Tag.1.Key=team&"
                              "TagSpecification.1.Tag.1.Value=render");
  const std::vector<std::string> ids = All(body, "spotInstanceRequestId");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(All(body, "state"), (std::vector<std::string>{"active", "active"}));
  EXPECT_EQ(First(body, "spotPrice"), "0.050000");
  EXPECT_THAT(body,
              HasSubstr("<status><code>fulfilled</code><updateTime>2026-04-07T00:00:00.000Z"));
  EXPECT_THAT(body, HasSubstr("<tagSet><item><key>team</key><value>render</value></item>"));

  const std::string described =
      Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + ids[1]);
  EXPECT_EQ(All(described, "spotInstanceRequestId"), std::vector<std::string>{ids[1]});
  const std::string instance = First(described, "instanceId");
  EXPECT_TRUE(IsInstanceId(instance)) << described;
  EXPECT_EQ(First(described, "launchedAvailabilityZone"), "us-east-1a");

  const std::string inst = Ok("DescribeInstances", "InstanceId.1=" + instance);
  EXPECT_EQ(First(inst, "instanceLifecycle"), "spot");
  EXPECT_EQ(First(inst, "spotInstanceRequestId"), ids[1]);
  EXPECT_THAT(inst,
              HasSubstr("<instanceState><code>16</code><name>running</name></instanceState>"));
}

TEST_F(Ec2ApiTest, PriceRiseMarksThenTerminatesByPrice) {
  const std::string id = RequestOne();
  SetPrice(0.07);  // above the max price 0.05
  std::string d = Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + id);
  EXPECT_EQ(First(d, "code"), "marked-for-termination");
  EXPECT_EQ(First(d, "state"), "active");
  Advance(std::chrono::minutes(2));
  d = Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + id);
  EXPECT_EQ(First(d, "state"), "closed");
  EXPECT_EQ(First(d, "code"), "instance-terminated-by-price");
  const std::string inst = Ok("DescribeInstances", "InstanceId.1=" + First(d, "instanceId"));
  EXPECT_EQ(First(First(inst, "instanceState"), "name"), "terminated");
  EXPECT_EQ(First(First(inst, "stateReason"), "code"), "Server.SpotInstanceTermination");
}

TEST_F(Ec2ApiTest, PersistentRequestReopensAfterItsInstanceEnds) {
  const std::string id = RequestOne("&Type=persistent");
  SetPrice(0.07);
  Advance(std::chrono::minutes(2));
  std::string d = Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + id);
  EXPECT_EQ(First(d, "state"), "open");
  EXPECT_EQ(First(d, "type"), "persistent");
}

TEST_F(Ec2ApiTest, CancelKeepsTheInstanceRunning) {
  const std::string id = RequestOne();
  const std::string c = Ok("CancelSpotInstanceRequests", "SpotInstanceRequestId.1=" + id);
  EXPECT_EQ(First(c, "state"), "cancelled");
  const std::string d = Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + id);
  EXPECT_EQ(First(d, "code"), "request-canceled-and-instance-running");
  const std::string inst = Ok("DescribeInstances", "InstanceId.1=" + First(d, "instanceId"));
  EXPECT_EQ(First(First(inst, "instanceState"), "name"), "running");
}

TEST_F(Ec2ApiTest, SpotErrorsAreEc2CodesAndApplyNothing) {
  EXPECT_THAT(
      Fails("RequestSpotInstances", "LaunchSpecification.InstanceType=m5.large&SpotPrice=cheap",
            "InvalidParameterValue"),
      HasSubstr("SpotPrice"));
  Fails("RequestSpotInstances", "LaunchSpecification.InstanceType=m5.large&SpotPrice=0",
        "InvalidParameterValue");
  Fails("RequestSpotInstances", "SpotPrice=0.05", "MissingParameter");
  Fails("RequestSpotInstances", "LaunchSpecification.InstanceType=m9.huge",
        "InvalidParameterValue");
  Fails("RequestSpotInstances", "LaunchSpecification.InstanceType=m5.large&Type=sometimes",
        "InvalidParameterValue");
  EXPECT_EQ(RequestCount(), 0u);
  Fails("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=sir-00000000",
        "InvalidSpotInstanceRequestID.NotFound");
  Fails("CancelSpotInstanceRequests", "SpotInstanceRequestId.1=nonsense",
        "InvalidSpotInstanceRequestID.Malformed");
  Fails("CancelSpotInstanceRequests", "", "MissingParameter");
}

TEST_F(Ec2ApiTest, CancelOfSeveralIsAllOrNothing) {
  const std::string id = RequestOne();
  Fails("CancelSpotInstanceRequests",
        "SpotInstanceRequestId.1=" + id + "&SpotInstanceRequestId.2=sir-zzzzzzzz",
        "InvalidSpotInstanceRequestID.NotFound");
  EXPECT_EQ(First(Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + id), "state"),
            "active");
}

TEST_F(Ec2ApiTest, DryRunAnswersDryRunOperationAndChangesNothing) {
  Fails("RequestSpotInstances", "LaunchSpecification.InstanceType=m5.large&DryRun=true",
        "DryRunOperation", 412);
  Fails("RunInstances", "InstanceType=m5.large&MinCount=1&MaxCount=1&DryRun=true",
        "DryRunOperation", 412);
  EXPECT_EQ(RequestCount(), 0u);
  EXPECT_EQ(InstanceCount(), 0u);
  Fails("DescribeInstances", "DryRun=true", "DryRunOperation", 412);
  // A dry run still checks the parameters first.
  Fails("RunInstances", "InstanceType=m5.large&MinCount=1&DryRun=true", "MissingParameter");
}

TEST_F(Ec2ApiTest, RunInstancesOnDemandInOneReservationWithTags) {
  const std::string body =
      Ok("RunInstances",
         "InstanceType=m5.large&MinCount=3&MaxCount=3&ImageId=ami-1&"
         "TagSpecification.1.ResourceType=instance&"
         "TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web");
  const std::string reservation = First(body, "reservationId");
  EXPECT_EQ(All(body, "instanceId").size(), 3u);
  EXPECT_THAT(body, Not(HasSubstr("instanceLifecycle")));
  const std::string d = Ok("DescribeInstances", "Filter.1.Name=tag%3AName&Filter.1.Value.1=web");
  EXPECT_EQ(All(d, "reservationId"), std::vector<std::string>{reservation});
  EXPECT_EQ(All(d, "instanceId").size(), 3u);
}

TEST_F(Ec2ApiTest, RunInstancesSpotChecksTheWholeCallFirst) {
  // Three slots: four instances at least cannot launch, and none does.
  EXPECT_THAT(Fails("RunInstances",
                    "InstanceType=m5.large&MinCount=4&MaxCount=4&"
                    "InstanceMarketOptions.MarketType=spot",
                    "InsufficientInstanceCapacity", 500),
              HasSubstr("us-east-1a"));
  EXPECT_EQ(InstanceCount(), 0u);
  Fails("RunInstances",
        "InstanceType=m5.large&MinCount=1&MaxCount=1&InstanceMarketOptions.MarketType=spot&"
        "InstanceMarketOptions.SpotOptions.MaxPrice=0.01",
        "SpotMaxPriceTooLow");
  // MaxCount beyond the capacity launches what fits.
  const std::string body =
      Ok("RunInstances",
         "InstanceType=m5.large&MinCount=1&MaxCount=10&InstanceMarketOptions.MarketType=spot&"
         "InstanceMarketOptions.SpotOptions.SpotInstanceType=persistent&"
         "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior=stop");
  EXPECT_EQ(All(body, "instanceLifecycle").size(), 3u);
  EXPECT_EQ(All(body, "spotInstanceRequestId").size(), 3u);
}

TEST_F(Ec2ApiTest, RunInstancesTagsItsSpotRequestsAndRefusesOtherResourceTypes) {
  Fails("RunInstances",
        "InstanceType=m5.large&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=volume&"
        "TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b",
        "InvalidParameterValue");
  EXPECT_EQ(InstanceCount(), 0u);
  Ok("RunInstances",
     "InstanceType=m5.large&MinCount=1&MaxCount=1&InstanceMarketOptions.MarketType=spot&"
     "TagSpecification.1.ResourceType=spot-instances-request&TagSpecification.1.Tag.1.Key=job&"
     "TagSpecification.1.Tag.1.Value=render");
  const std::string d =
      Ok("DescribeSpotInstanceRequests", "Filter.1.Name=tag%3Ajob&Filter.1.Value.1=render");
  EXPECT_EQ(All(d, "spotInstanceRequestId").size(), 1u);
}

TEST_F(Ec2ApiTest, HugeOrWrongCountsAreRefusedWithNothingLaunched) {
  Fails("RunInstances", "InstanceType=m5.large&MinCount=5000&MaxCount=5000",
        "InstanceLimitExceeded");
  Fails("RunInstances", "InstanceType=m5.large&MinCount=1&MaxCount=99999999999999999999",
        "InvalidParameterValue");
  Fails("RunInstances", "InstanceType=m5.large&MinCount=1&MaxCount=ten", "InvalidParameterValue");
  Fails("RunInstances", "InstanceType=m5.large&MinCount=3&MaxCount=2", "InvalidParameterValue");
  EXPECT_EQ(InstanceCount(), 0u);
}

TEST_F(Ec2ApiTest, StopAndStartAPersistentSpotInstance) {
  const std::string id = RequestOne("&Type=persistent");
  const std::string inst = First(Ok("DescribeSpotInstanceRequests"), "instanceId");
  const std::string stop = Ok("StopInstances", "InstanceId.1=" + inst + "&Hibernate=true");
  EXPECT_EQ(First(First(stop, "currentState"), "name"), "stopped");
  EXPECT_EQ(First(First(stop, "previousState"), "name"), "running");
  EXPECT_EQ(First(Ok("DescribeSpotInstanceRequests", "SpotInstanceRequestId.1=" + id), "state"),
            "disabled");
  const std::string start = Ok("StartInstances", "InstanceId.1=" + inst);
  EXPECT_EQ(First(First(start, "currentState"), "name"), "running");
}

TEST_F(Ec2ApiTest, StopOfSeveralIsAllOrNothing) {
  RequestOne("&Type=persistent");
  RequestOne();  // one-time: cannot be stopped
  const std::vector<std::string> insts = All(Ok("DescribeSpotInstanceRequests"), "instanceId");
  ASSERT_EQ(insts.size(), 2u);
  Fails("StopInstances", "InstanceId.1=" + insts[0] + "&InstanceId.2=" + insts[1],
        "UnsupportedOperation");
  for (const std::string& i : insts) {
    EXPECT_EQ(First(First(Ok("DescribeInstances", "InstanceId.1=" + i), "instanceState"), "name"),
              "running");
  }
  Fails("TerminateInstances", "InstanceId.1=i-0000000000000000f", "InvalidInstanceID.NotFound");
  Fails("TerminateInstances", "InstanceId.1=web-1", "InvalidInstanceID.Malformed");
}

TEST_F(Ec2ApiTest, TerminateInstances) {
  Ok("RunInstances", "InstanceType=m5.large&MinCount=1&MaxCount=1");
  const std::string inst = First(Ok("DescribeInstances"), "instanceId");
  const std::string t = Ok("TerminateInstances", "InstanceId.1=" + inst);
  EXPECT_THAT(t, HasSubstr("<currentState><code>48</code><name>terminated</name>"));
  EXPECT_THAT(t, HasSubstr("<previousState><code>16</code><name>running</name>"));
}

TEST_F(Ec2ApiTest, DescribeInstancesPagesEndWithoutAToken) {
  Ok("RunInstances", "InstanceType=m5.large&MinCount=12&MaxCount=12");
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    std::string params = "MaxResults=5";
    if (!token.empty()) params += "&NextToken=" + Encode(token);
    const std::string page = Ok("DescribeInstances", params);
    for (const std::string& id : All(page, "instanceId")) seen.push_back(id);
    token = First(page, "nextToken");
    ++pages;
    if (token.empty()) {
      EXPECT_THAT(page, Not(HasSubstr("nextToken")));
    }
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 12u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  Fails("DescribeInstances", "MaxResults=5&NextToken=zz", "InvalidPaginationToken");
  Fails("DescribeInstances", "MaxResults=2", "InvalidParameterValue");
  Fails("DescribeInstances", "MaxResults=5&InstanceId.1=i-0000000000000000f",
        "InvalidParameterCombination");
}

TEST_F(Ec2ApiTest, FiltersMatchWithWildcardsAndUnknownNamesAreRefused) {
  RequestOne();
  Ok("RunInstances", "InstanceType=m5.large&MinCount=1&MaxCount=1");
  EXPECT_EQ(All(Ok("DescribeInstances", "Filter.1.Name=instance-lifecycle&Filter.1.Value.1=spot"),
                "instanceId")
                .size(),
            1u);
  EXPECT_EQ(All(Ok("DescribeInstances",
                   "Filter.1.Name=instance-type&Filter.1.Value.1=m5.*&"
                   "Filter.2.Name=instance-state-name&Filter.2.Value.1=running"),
                "instanceId")
                .size(),
            2u);
  EXPECT_THAT(Fails("DescribeInstances", "Filter.1.Name=colour&Filter.1.Value.1=red",
                    "InvalidParameterValue"),
              HasSubstr("colour"));
  EXPECT_EQ(All(Ok("DescribeSpotInstanceRequests",
                   "Filter.1.Name=status-code&Filter.1.Value.1=fulfilled"),
                "spotInstanceRequestId")
                .size(),
            1u);
}

TEST_F(Ec2ApiTest, SpotPriceHistoryIsThePoolsHistoryNewestFirst) {
  Advance(std::chrono::minutes(1));
  SetPrice(0.04);
  Advance(std::chrono::minutes(4));
  SetPrice(0.06);
  const std::string body = Ok("DescribeSpotPriceHistory", "InstanceType.1=m5.large");
  EXPECT_EQ(All(body, "spotPrice"), (std::vector<std::string>{"0.060000", "0.040000", "0.030000"}));
  EXPECT_EQ(All(body, "timestamp").front(), "2026-04-07T00:05:00.000Z");
  EXPECT_EQ(All(body, "productDescription").front(), "Linux/UNIX");
  // StartTime keeps the price in effect then.
  const std::string since =
      Ok("DescribeSpotPriceHistory", "InstanceType.1=m5.large&StartTime=2026-04-07T00%3A02%3A00Z");
  EXPECT_EQ(All(since, "spotPrice"), (std::vector<std::string>{"0.060000", "0.040000"}));
  EXPECT_TRUE(
      All(Ok("DescribeSpotPriceHistory", "ProductDescription.1=Windows"), "spotPrice").empty());
  const std::string paged = Ok("DescribeSpotPriceHistory", "MaxResults=2");
  EXPECT_EQ(All(paged, "spotPrice").size(), 2u);
  EXPECT_FALSE(First(paged, "nextToken").empty());
}

TEST_F(Ec2ApiTest, TagsCreateDescribeDelete) {
  const std::string id = RequestOne();
  const std::string inst = First(Ok("DescribeSpotInstanceRequests"), "instanceId");
  EXPECT_EQ(First(Ok("CreateTags", "ResourceId.1=" + inst + "&ResourceId.2=" + id +
                                       "&Tag.1.Key=env&Tag.1.Value=prod"),
                  "return"),
            "true");
  std::string d = Ok("DescribeTags", "Filter.1.Name=key&Filter.1.Value.1=env");
  EXPECT_EQ(All(d, "resourceId").size(), 2u);
  EXPECT_THAT(d, HasSubstr("<resourceType>spot-instances-request</resourceType>"));
  Ok("DeleteTags", "ResourceId.1=" + inst + "&Tag.1.Key=env&Tag.1.Value=staging");  // no match
  EXPECT_EQ(All(Ok("DescribeTags", "Filter.1.Name=key&Filter.1.Value.1=env"), "resourceId").size(),
            2u);
  Ok("DeleteTags", "ResourceId.1=" + inst + "&Tag.1.Key=env");
  EXPECT_EQ(All(Ok("DescribeTags", "Filter.1.Name=key&Filter.1.Value.1=env"), "resourceId"),
            std::vector<std::string>{id});
  Fails("CreateTags", "ResourceId.1=i-0000000000000000f&Tag.1.Key=a&Tag.1.Value=b",
        "InvalidInstanceID.NotFound");
  Fails("CreateTags", "ResourceId.1=" + inst + "&Tag.1.Key=aws%3Ax&Tag.1.Value=b",
        "InvalidParameterValue");
}

TEST_F(Ec2ApiTest, InstanceStatusShowsScheduledEvents) {
  Ok("RunInstances", "InstanceType=m5.large&MinCount=1&MaxCount=1");
  const std::string inst = First(Ok("DescribeInstances"), "instanceId");
  host_.WithWorld([&](World& m, VirtualClock&) {
    ScheduledEventSpec spec;
    spec.code = "system-reboot";
    spec.not_before = m.now() + std::chrono::hours(24);
    ASSERT_TRUE(m.aws().CreateScheduledEvent(inst, spec, cause::kService).ok());
  });
  const std::string s = Ok("DescribeInstanceStatus", "InstanceId.1=" + inst);
  EXPECT_EQ(First(s, "code"), "system-reboot");
  EXPECT_EQ(First(s, "notBefore"), "2026-04-08T00:00:00.000Z");
  EXPECT_THAT(s, HasSubstr("<systemStatus><status>ok</status>"));
  Ok("StopInstances", "InstanceId.1=" + inst);
  EXPECT_TRUE(All(Ok("DescribeInstanceStatus"), "instanceId").empty());
  EXPECT_EQ(All(Ok("DescribeInstanceStatus", "IncludeAllInstances=true"), "instanceId").size(), 1u);
}

TEST_F(Ec2ApiTest, InstanceTypesFromTheCatalog) {
  const std::string body = Ok("DescribeInstanceTypes", "InstanceType.1=m5.large");
  EXPECT_EQ(First(body, "instanceType"), "m5.large");
  EXPECT_EQ(First(First(body, "vCpuInfo"), "defaultVCpus"), "2");
  EXPECT_EQ(First(First(body, "memoryInfo"), "sizeInMiB"), "8192");
  Fails("DescribeInstanceTypes", "InstanceType.1=m9.huge", "InvalidParameterValue");
}

// A request signed for `region` with (key, secret), like botocore signs it.
HttpRequest Signed(const std::string& body, const std::string& key, const std::string& secret,
                   const std::string& region) {
  HttpRequest req =
      HttpRequest::Make("POST", "/",
                        {{"Host", "127.0.0.1:8190"},
                         {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                         {"X-Amz-Date", "20260407T000000Z"}},
                        body);
  SigV4 sig;
  sig.access_key = key;
  sig.date = "20260407";
  sig.region = region;
  sig.service = "ec2";
  sig.amz_date = "20260407T000000Z";
  sig.signed_headers = {"content-type", "host", "x-amz-date"};
  const std::string signature = SignatureFor(secret, sig.date, region, "ec2",
                                             StringToSign(sig, CanonicalRequest(req, {}, sig)));
  req.headers.emplace_back("Authorization",
                           "AWS4-HMAC-SHA256 Credential=" + key + "/20260407/" + region +
                               "/ec2/aws4_request, SignedHeaders=" +
                               "content-type;host;x-amz-date, Signature=" + signature);
  return req;
}

TEST_F(Ec2ApiTest, RegionComesFromTheCredentialScope) {
  const std::string body = "Action=DescribeAvailabilityZones&Version=2016-11-15";
  HttpResponse eu = api_.Handle(Signed(body, "AKID", "x", "eu-west-1"), {});
  EXPECT_EQ(All(eu.body, "zoneName"), std::vector<std::string>{"eu-west-1a"});
  HttpResponse us = api_.Handle(Signed(body, "AKID", "x", "us-east-1"), {});
  EXPECT_EQ(All(us.body, "zoneName"), std::vector<std::string>{"us-east-1a"});
  EXPECT_EQ(First(us.body, "zoneId"), "use1-az1");
}

TEST(Ec2ApiAuthTest, WithCredentialsOnlyAGoodSignaturePasses) {
  FakeClock clock;
  MarketHost host(clock, std::move(Scenario().Load("t.toml")).value(),
                  ClockSpec{ClockMode::kManual, 0});
  Ec2Api api(host,
             Ec2ApiOptions{.credentials = CredentialMap{{"AKIDGOOD", "s3cret"}}, .on_change = {}});
  const std::string body = "Action=DescribeRegions&Version=2016-11-15";
  EXPECT_EQ(api.Handle(Signed(body, "AKIDGOOD", "s3cret", "us-east-1"), {}).status, 200);
  HttpResponse wrong = api.Handle(Signed(body, "AKIDGOOD", "guess", "us-east-1"), {});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(First(wrong.body, "Code"), "AuthFailure");
  HttpResponse unknown = api.Handle(Signed(body, "AKIDBAD", "s3cret", "us-east-1"), {});
  EXPECT_EQ(First(unknown.body, "Code"), "AuthFailure");
  HttpResponse unsigned_req = api.Handle(HttpRequest::Make("POST", "/", {}, body), {});
  EXPECT_EQ(First(unsigned_req.body, "Code"), "AuthFailure");
  // A signed body changed on the way is caught too.
  HttpRequest tampered = Signed(body, "AKIDGOOD", "s3cret", "us-east-1");
  tampered.body = "Action=DescribeInstances&Version=2016-11-15";
  EXPECT_EQ(api.Handle(tampered, {}).status, 401);
}

TEST_F(Ec2ApiTest, MalformedSignatureIsIncompleteSignature) {
  HttpResponse r = Call("DescribeRegions", "", {{"Authorization", "AWS4-HMAC-SHA256 nonsense"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(First(r.body, "Code"), "IncompleteSignature");
}

TEST(Ec2ErrorTest, MarketCodesMapToTypedEc2Codes) {
  EXPECT_EQ(FromMarketStatus(
                CloudError(StatusCode::kNotFound, "InvalidSpotInstanceRequestID.NotFound", "x"))
                .code,
            Ec2ErrorCode::kInvalidSpotInstanceRequestIdNotFound);
  Ec2Error cap = FromMarketStatus(
      CloudError(StatusCode::kResourceExhausted, kInsufficientCapacity, "no room"));
  EXPECT_EQ(cap.code, Ec2ErrorCode::kInsufficientInstanceCapacity);
  EXPECT_EQ(cap.http_status(), 500);
  EXPECT_EQ(cap.message, "no room");
  EXPECT_EQ(Ec2HttpStatus(Ec2ErrorCode::kDryRunOperation), 412);
  EXPECT_EQ(Ec2HttpStatus(Ec2ErrorCode::kAuthFailure), 401);
  EXPECT_EQ(Ec2HttpStatus(Ec2ErrorCode::kUnauthorizedOperation), 403);
  EXPECT_EQ(FromMarketStatus(InvalidArgument("plain")).code, Ec2ErrorCode::kInvalidParameterValue);
  const std::string xml = Ec2Error{Ec2ErrorCode::kInvalidAction, "a <b>"}.ToXml("rid");
  EXPECT_THAT(xml, HasSubstr("<Response><Errors><Error><Code>InvalidAction</Code><Message>a "
                             "&lt;b&gt;</Message></Error></Errors><RequestID>rid</RequestID>"
                             "</Response>"));
}

}  // namespace
}  // namespace lastcall::mock::ec2
