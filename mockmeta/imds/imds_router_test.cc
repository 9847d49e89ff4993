#include "mockmeta/imds/imds_router.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_format.h"
#include "mockmeta/imds/alibaba_metadata.h"
#include "mockmeta/imds/aws_metadata.h"
#include "mockmeta/testing/memory_instance_directory.h"

namespace lastcall::mock {
namespace {

using std::chrono::seconds;

WallTime T(std::string_view rfc3339) { return ParseRfc3339(rfc3339).value(); }

AwsMetadataView AwsInstance(std::string id = "i-0aws") {
  AwsMetadataView v;
  v.instance_id = std::move(id);
  v.instance_type = "m5.large";
  v.ami_id = "ami-0123";
  v.local_hostname = "ip-10-0-0-5.ec2.internal";
  v.local_ipv4 = "10.0.0.5";
  v.mac = "0e:00:00:00:00:01";
  v.availability_zone = "us-east-1a";
  v.region = "us-east-1";
  v.account_id = "123456789012";
  v.pending_time = T("2026-11-23T10:00:00Z");
  return v;
}

AlibabaMetadataView AlibabaInstance(std::string id = "i-0ali") {
  AlibabaMetadataView v;
  v.instance_id = std::move(id);
  v.instance_type = "ecs.g6.large";
  v.instance_name = "worker-1";
  v.hostname = "iZbp1abcZ";
  v.region_id = "cn-hangzhou";
  v.zone_id = "cn-hangzhou-i";
  v.image_id = "ubuntu_22_04_x64";
  v.mac = "00:16:3e:00:00:01";
  v.private_ipv4 = "172.16.0.5";
  v.vpc_id = "vpc-1";
  v.vswitch_id = "vsw-1";
  v.serial_number = "sn-1";
  v.owner_account_id = "1234567890";
  return v;
}

class ImdsRouterTest : public ::testing::Test {
 protected:
  ImdsRouterTest() : tokens_(clock_, 1), router_(dir_, tokens_, faults_) {
    dir_.PutAws(AwsInstance());
    dir_.PutAlibaba(AlibabaInstance());
    dir_.BindListener("aws-port", "i-0aws");
    dir_.BindListener("ali-port", "i-0ali");
  }

  HttpResponse Get(std::string target, HttpHeaders headers = {},
                   std::string listener = "aws-port") {
    return router_.Handle(HttpRequest::Make("GET", std::move(target), std::move(headers)),
                          RequestContext{std::move(listener), "127.0.0.1", 40000});
  }
  HttpResponse Put(std::string target, HttpHeaders headers, std::string listener = "aws-port") {
    return router_.Handle(HttpRequest::Make("PUT", std::move(target), std::move(headers)),
                          RequestContext{std::move(listener), "127.0.0.1", 40000});
  }
  std::string AwsToken(int ttl = 21600, std::string listener = "aws-port") {
    HttpResponse r =
        Put("/latest/api/token", {{std::string(kAwsTokenTtlHeader), std::to_string(ttl)}},
            std::move(listener));
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
  std::string AlibabaToken(int ttl = 21600) {
    HttpResponse r = Put("/latest/api/token",
                         {{std::string(kAlibabaTokenTtlHeader), std::to_string(ttl)}}, "ali-port");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
  void UpdateAws(const std::function<void(AwsMetadataView&)>& f) {
    AwsMetadataView v = *dir_.AwsView("i-0aws");
    f(v);
    dir_.PutAws(v);
  }

  FakeClock clock_;
  MemoryInstanceDirectory dir_;
  TokenStore tokens_;
  FaultTable faults_{1};
  ImdsRouter router_;
};

// --- AWS tree --------------------------------------------------------------------------------

TEST_F(ImdsRouterTest, RootListsTheVersionsEc2Lists) {
  HttpResponse r = Get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.rfind("1.0\n2007-01-19\n2007-03-01\n", 0), 0u);
  EXPECT_NE(r.body.find("\n2009-04-04\n"), std::string::npos);
  EXPECT_NE(r.body.find("\n2021-03-23\n"), std::string::npos);
  EXPECT_TRUE(r.body.ends_with("\nlatest"));
  EXPECT_EQ(Get("/latest/").body, "dynamic\nmeta-data");
  UpdateAws([](AwsMetadataView& v) { v.user_data = "#cloud-config"; });
  EXPECT_EQ(Get("/latest").body, "dynamic\nmeta-data\nuser-data");
}

TEST_F(ImdsRouterTest, AwsMetaDataListingIsSortedAndMarksDirectories) {
  HttpResponse r = Get("/latest/meta-data/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nevents/\n"
            "hostname\nidentity-credentials/\ninstance-action\ninstance-id\n"
            "instance-life-cycle\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\n"
            "placement/\nprofile\nreservation-id\nsecurity-groups\nservices/");
  EXPECT_EQ(Get("/latest/meta-data/placement/").body,
            "availability-zone\navailability-zone-id\nregion");
  EXPECT_EQ(Get("/latest/meta-data/events/").body, "maintenance/");
}

TEST_F(ImdsRouterTest, AwsIdentityLeaves) {
  EXPECT_EQ(Get("/latest/meta-data/instance-id").body, "i-0aws");
  EXPECT_EQ(Get("/latest/meta-data/instance-id/").body, "i-0aws");  // trailing slash tolerated
  EXPECT_EQ(Get("/latest/meta-data/instance-type").body, "m5.large");
  EXPECT_EQ(Get("/latest/meta-data/instance-life-cycle").body, "spot");
  EXPECT_EQ(Get("/latest/meta-data/ami-id").body, "ami-0123");
  EXPECT_EQ(Get("/latest/meta-data/local-ipv4").body, "10.0.0.5");
  EXPECT_EQ(Get("/latest/meta-data/local-hostname").body, "ip-10-0-0-5.ec2.internal");
  EXPECT_EQ(Get("/latest/meta-data/hostname").body, "ip-10-0-0-5.ec2.internal");
  EXPECT_EQ(Get("/latest/meta-data/mac").body, "0e:00:00:00:00:01");
  EXPECT_EQ(Get("/latest/meta-data/placement/availability-zone").body, "us-east-1a");
  EXPECT_EQ(Get("/latest/meta-data/placement/region").body, "us-east-1");
  EXPECT_EQ(Get("/latest/meta-data/public-ipv4").status, 404);
  EXPECT_EQ(Get("/latest/meta-data/public-hostname").status, 404);
  UpdateAws([](AwsMetadataView& v) {
    v.public_ipv4 = "54.1.2.3";
    v.public_hostname = "ec2-54-1-2-3.compute-1.amazonaws.com";
  });
  EXPECT_EQ(Get("/latest/meta-data/public-ipv4").body, "54.1.2.3");
  EXPECT_EQ(Get("/latest/meta-data/public-hostname").body, "ec2-54-1-2-3.compute-1.amazonaws.com");
}

TEST_F(ImdsRouterTest, AwsUserData) {
  EXPECT_EQ(Get("/latest/user-data").status, 404);
  UpdateAws([](AwsMetadataView& v) { v.user_data = "#!/bin/sh\necho hi\n"; });
  EXPECT_EQ(Get("/latest/user-data").body, "#!/bin/sh\necho hi\n");
}

TEST_F(ImdsRouterTest, AwsIdentityDocument) {
  HttpResponse r = Get("/latest/dynamic/instance-identity/document");
  ASSERT_EQ(r.status, 200);
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["accountId"], "123456789012");
  EXPECT_EQ(doc["instanceId"], "i-0aws");
  EXPECT_EQ(doc["instanceType"], "m5.large");
  EXPECT_EQ(doc["privateIp"], "10.0.0.5");
  EXPECT_EQ(doc["availabilityZone"], "us-east-1a");
  EXPECT_EQ(doc["region"], "us-east-1");
  EXPECT_EQ(doc["imageId"], "ami-0123");
  EXPECT_EQ(doc["pendingTime"], "2026-11-23T10:00:00Z");
  EXPECT_EQ(Get("/latest/dynamic/").body, "instance-identity/");
  EXPECT_EQ(Get("/latest/dynamic/instance-identity/").body, "document\npkcs7\nrsa2048\nsignature");
}

TEST_F(ImdsRouterTest, AwsNotFoundIsTheXhtmlPage) {
  HttpResponse r = Get("/latest/meta-data/spot/instance-action");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_NE(r.body.find("<title>404 - Not Found</title>"), std::string::npos);
  EXPECT_NE(r.body.find("<h1>404 - Not Found</h1>"), std::string::npos);
  EXPECT_EQ(r.body.rfind("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>", 0), 0u);
  EXPECT_EQ(Get("/latest/meta-data/nothing-here").status, 404);
  EXPECT_EQ(Get("/2021-01-02/meta-data/").status, 404);  // a version EC2 does not list
}

TEST_F(ImdsRouterTest, AwsInstanceActionAndTerminationTime) {
  UpdateAws([](AwsMetadataView& v) {
    v.instance_action = AwsInstanceAction{"stop", T("2017-09-18T08:22:00Z")};
    v.termination_time = T("2017-09-18T08:22:00Z");
  });
  HttpResponse r = Get("/latest/meta-data/spot/instance-action");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"action":"stop","time":"2017-09-18T08:22:00Z"})");
  EXPECT_EQ(Get("/latest/meta-data/spot/termination-time").body, "2017-09-18T08:22:00Z");
  EXPECT_EQ(Get("/latest/meta-data/spot/").body, "instance-action\ntermination-time");
  EXPECT_NE(Get("/latest/meta-data/").body.find("\nspot/"), std::string::npos);
}

TEST_F(ImdsRouterTest, AwsRebalance) {
  EXPECT_EQ(Get("/latest/meta-data/events/recommendations/rebalance").status, 404);
  UpdateAws([](AwsMetadataView& v) { v.rebalance_notice_time = T("2020-10-16T19:18:24Z"); });
  HttpResponse r = Get("/latest/meta-data/events/recommendations/rebalance");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"noticeTime":"2020-10-16T19:18:24Z"})");
  EXPECT_EQ(Get("/latest/meta-data/events/").body, "maintenance/\nrecommendations/");
}

TEST_F(ImdsRouterTest, AwsScheduledEvents) {
  EXPECT_EQ(Get("/latest/meta-data/events/maintenance/scheduled").body, "[]");
  UpdateAws([](AwsMetadataView& v) {
    AwsScheduledEvent e;
    e.code = "system-reboot";
    e.description = "scheduled reboot";
    e.event_id = "instance-event-0d59937288b749b32";
    e.not_before = T("2019-01-01T09:00:43Z");
    e.not_after = T("2019-01-21T09:17:23Z");
    e.state = "active";
    v.scheduled_events.push_back(e);
    AwsScheduledEvent f = e;
    f.code = "instance-stop";
    f.event_id = "instance-event-1";
    f.not_after.reset();
    f.not_before_deadline = T("2019-01-31T09:00:00Z");
    f.state = "canceled";
    v.scheduled_events.push_back(f);
  });
  HttpResponse r = Get("/latest/meta-data/events/maintenance/scheduled");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"([{"Code":"system-reboot","Description":"scheduled reboot",)"
            R"("EventId":"instance-event-0d59937288b749b32","NotBefore":"1 Jan 2019 09:00:43 GMT",)"
            R"("NotAfter":"21 Jan 2019 09:17:23 GMT","State":"active"},)"
            R"({"Code":"instance-stop","Description":"scheduled reboot",)"
            R"("EventId":"instance-event-1","NotBefore":"1 Jan 2019 09:00:43 GMT",)"
            R"("NotBeforeDeadline":"31 Jan 2019 09:00:00 GMT","State":"canceled"}])");
}

TEST_F(ImdsRouterTest, AwsTargetLifecycleState) {
  EXPECT_EQ(Get("/latest/meta-data/autoscaling/target-lifecycle-state").status, 404);
  UpdateAws([](AwsMetadataView& v) { v.target_lifecycle_state = "Terminated"; });
  EXPECT_EQ(Get("/latest/meta-data/autoscaling/target-lifecycle-state").body, "Terminated");
  EXPECT_EQ(Get("/latest/meta-data/autoscaling/").body, "target-lifecycle-state");
}

// --- AWS tokens ------------------------------------------------------------------------------

TEST_F(ImdsRouterTest, AwsTokenResponseRepeatsTtlHeader) {
  HttpResponse r = Put("/latest/api/token", {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain");
  EXPECT_FALSE(r.body.empty());
  ASSERT_NE(r.Header(kAwsTokenTtlHeader), nullptr);
  EXPECT_EQ(*r.Header(kAwsTokenTtlHeader), "21600");
  EXPECT_EQ(Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), r.body}}).status,
            200);
}

TEST_F(ImdsRouterTest, AwsTokenTtlMustBe1To21600) {
  for (const char* bad : {"0", "21601", "-1", "abc", "60s", " 60", "6e1", "", "99999999999"}) {
    EXPECT_EQ(Put("/latest/api/token", {{std::string(kAwsTokenTtlHeader), bad}}).status, 400)
        << "ttl=\"" << bad << "\"";
  }
  EXPECT_EQ(Put("/latest/api/token", {}).status, 400);  // missing
  EXPECT_EQ(Put("/latest/api/token", {{std::string(kAwsTokenTtlHeader), "1"}}).status, 200);
  // The other cloud's TTL header does not count.
  EXPECT_EQ(Put("/latest/api/token", {{std::string(kAlibabaTokenTtlHeader), "60"}}).status, 400);
}

TEST_F(ImdsRouterTest, AwsTokenPutWithXForwardedForIs403) {
  HttpResponse r = Put("/latest/api/token",
                       {{std::string(kAwsTokenTtlHeader), "60"}, {"X-Forwarded-For", "1.2.3.4"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("403 - Forbidden"), std::string::npos);
}

TEST_F(ImdsRouterTest, AwsTokenPathOnlyTakesPut) {
  HttpResponse r = Get("/latest/api/token");
  EXPECT_EQ(r.status, 405);
  ASSERT_NE(r.Header("Allow"), nullptr);
  EXPECT_EQ(*r.Header("Allow"), "PUT");
  EXPECT_EQ(Put("/latest/meta-data/instance-id", {}).status, 405);
}

TEST_F(ImdsRouterTest, AwsUnknownTokenIs401) {
  HttpResponse r = Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), "bogus"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("401 - Unauthorized"), std::string::npos);
}

TEST_F(ImdsRouterTest, AwsExpiredTokenIs401OnVirtualTime) {
  std::string token = AwsToken(5);
  HttpHeaders h = {{std::string(kAwsTokenHeader), token}};
  EXPECT_EQ(Get("/latest/meta-data/instance-id", h).status, 200);
  clock_.Advance(seconds(5));
  EXPECT_EQ(Get("/latest/meta-data/instance-id", h).status, 401);
}

TEST_F(ImdsRouterTest, AwsTokensRequiredWithoutTokenIs401) {
  EXPECT_EQ(Get("/latest/meta-data/instance-id").status, 200);  // IMDSv1 allowed
  UpdateAws([](AwsMetadataView& v) { v.tokens_required = true; });
  EXPECT_EQ(Get("/latest/meta-data/instance-id").status, 401);
  EXPECT_EQ(Get("/").status, 401);
  EXPECT_EQ(
      Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), AwsToken()}}).status,
      200);
}

TEST_F(ImdsRouterTest, TokenIsBoundToItsInstance) {
  dir_.PutAws(AwsInstance("i-0other"));
  dir_.BindListener("other-port", "i-0other");
  std::string token = AwsToken(60, "other-port");
  EXPECT_EQ(
      Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), token}}, "other-port")
          .status,
      200);
  EXPECT_EQ(Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), token}}).status,
            401);
}

// --- Addressing ------------------------------------------------------------------------------

TEST_F(ImdsRouterTest, PathPrefixAddressesAnyInstanceOnAnyListener) {
  EXPECT_EQ(Get("/i-0aws/latest/meta-data/instance-id", {}, "shared").body, "i-0aws");
  EXPECT_EQ(Get("/i-0ali/latest/meta-data/instance-id", {}, "shared").body, "i-0ali");
  EXPECT_TRUE(Get("/i-0aws/", {}, "shared").body.ends_with("2022-09-24\nlatest"));
  EXPECT_TRUE(Get("/i-0aws", {}, "shared").body.ends_with("2022-09-24\nlatest"));
  EXPECT_EQ(Get("/i-0aws/2009-04-04/meta-data/instance-id", {}, "shared").body, "i-0aws");
  // The token flow works under a prefix, and the token is bound to the prefixed instance.
  HttpResponse t =
      Put("/i-0aws/latest/api/token", {{std::string(kAwsTokenTtlHeader), "60"}}, "shared");
  ASSERT_EQ(t.status, 200);
  EXPECT_EQ(Get("/i-0aws/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), t.body}},
                "shared")
                .status,
            200);
}

TEST_F(ImdsRouterTest, BoundListenerServesOnlyItsInstance) {
  // A real instance cannot read its neighbour's metadata.
  EXPECT_EQ(Get("/i-0ali/latest/meta-data/instance-id", {}, "aws-port").status, 404);
  EXPECT_EQ(Get("/i-0aws/latest/meta-data/instance-id", {}, "aws-port").body, "i-0aws");
  EXPECT_EQ(Get("/latest/meta-data/instance-id", {}, "aws-port").body, "i-0aws");
}

TEST_F(ImdsRouterTest, UnknownInstanceOrUnboundListenerIs404) {
  EXPECT_EQ(Get("/i-nope/latest/meta-data/instance-id", {}, "shared").status, 404);
  EXPECT_EQ(Get("/latest/meta-data/instance-id", {}, "shared").status, 404);
  EXPECT_EQ(Get("/", {}, "shared").status, 404);
  dir_.Remove("i-0aws");
  EXPECT_EQ(Get("/latest/meta-data/instance-id").status, 404);
}

// @aws-sdk/ec2-metadata-service requests "//latest/meta-data/..." (its endpoint's path "/"
// followed by the item's path); EC2 answers it, mockmeta answered 404.
TEST_F(ImdsRouterTest, AwsSdkJsLeadingDoubleSlashIsServed) {
  EXPECT_EQ(Get("//latest/meta-data/instance-id").body, "i-0aws");
  EXPECT_EQ(Get("//i-0aws/latest/meta-data/instance-id", {}, "shared").body, "i-0aws");
  EXPECT_EQ(Get("/latest//meta-data/instance-id").status, 404);  // inside the path it names nothing
}

TEST_F(ImdsRouterTest, QueryStringIsIgnored) {
  EXPECT_EQ(Get("/latest/meta-data/instance-id?x=1").body, "i-0aws");
}

// --- Alibaba ---------------------------------------------------------------------------------

HttpHeaders AliToken(const std::string& t) { return {{std::string(kAlibabaTokenHeader), t}}; }

TEST_F(ImdsRouterTest, AlibabaTree) {
  auto get = [&](const char* p) { return Get(p, {}, "ali-port"); };
  EXPECT_EQ(get("/latest/meta-data/").body,
            "disks/\ndns-conf/\nhostname\nimage-id\ninstance-id\ninstance/\nmac\nnetwork-type\n"
            "network/\nntp-conf/\nowner-account-id\nprivate-ipv4\nregion-id\nserial-number\n"
            "source-address\nvpc-cidr-block\nvpc-id\nvswitch-cidr-block\nvswitch-id\nzone-id");
  EXPECT_EQ(get("/latest/meta-data/instance/").body, "instance-name\ninstance-type");
  EXPECT_EQ(get("/latest/meta-data/instance-id").body, "i-0ali");
  EXPECT_EQ(get("/latest/meta-data/instance/instance-type").body, "ecs.g6.large");
  EXPECT_EQ(get("/latest/meta-data/instance/instance-name").body, "worker-1");
  EXPECT_EQ(get("/latest/meta-data/hostname").body, "iZbp1abcZ");
  EXPECT_EQ(get("/latest/meta-data/region-id").body, "cn-hangzhou");
  EXPECT_EQ(get("/latest/meta-data/zone-id").body, "cn-hangzhou-i");
  EXPECT_EQ(get("/latest/meta-data/image-id").body, "ubuntu_22_04_x64");
  EXPECT_EQ(get("/latest/meta-data/mac").body, "00:16:3e:00:00:01");
  EXPECT_EQ(get("/latest/meta-data/private-ipv4").body, "172.16.0.5");
  EXPECT_EQ(get("/latest/meta-data/vpc-id").body, "vpc-1");
  EXPECT_EQ(get("/latest/meta-data/vswitch-id").body, "vsw-1");
  EXPECT_EQ(get("/latest/meta-data/serial-number").body, "sn-1");
  EXPECT_EQ(get("/latest/meta-data/owner-account-id").body, "1234567890");
  EXPECT_EQ(get("/").body, "2016-01-01\nlatest");
  // The dated version cloud-init's AliYun datasource asks for serves the same tree.
  EXPECT_EQ(get("/2016-01-01/meta-data/instance-id").body, "i-0ali");
  EXPECT_EQ(get("/2009-04-04/meta-data/instance-id").status, 404);  // an AWS version
}

TEST_F(ImdsRouterTest, AlibabaTerminationTime) {
  EXPECT_EQ(Get("/latest/meta-data/instance/spot/termination-time", {}, "ali-port").status, 404);
  AlibabaMetadataView v = *dir_.AlibabaView("i-0ali");
  v.termination_time = T("2020-04-07T17:03:00Z");
  dir_.PutAlibaba(v);
  HttpResponse r = Get("/latest/meta-data/instance/spot/termination-time", {}, "ali-port");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "2020-04-07T17:03:00Z");
  EXPECT_EQ(Get("/latest/meta-data/instance/spot/termination-time/", {}, "ali-port").status, 200);
  EXPECT_EQ(Get("/latest/meta-data/instance/", {}, "ali-port").body,
            "instance-name\ninstance-type\nspot/");
}

TEST_F(ImdsRouterTest, AlibabaTokenRules) {
  // TTL range and X-Forwarded-For.
  EXPECT_EQ(
      Put("/latest/api/token", {{std::string(kAlibabaTokenTtlHeader), "0"}}, "ali-port").status,
      400);
  EXPECT_EQ(
      Put("/latest/api/token", {{std::string(kAlibabaTokenTtlHeader), "21601"}}, "ali-port").status,
      400);
  EXPECT_EQ(Put("/latest/api/token", {{std::string(kAwsTokenTtlHeader), "60"}}, "ali-port").status,
            400);
  EXPECT_EQ(Put("/latest/api/token",
                {{std::string(kAlibabaTokenTtlHeader), "60"}, {"X-Forwarded-For", "10.0.0.1"}},
                "ali-port")
                .status,
            403);
  HttpResponse t =
      Put("/latest/api/token", {{std::string(kAlibabaTokenTtlHeader), "60"}}, "ali-port");
  ASSERT_EQ(t.status, 200);
  ASSERT_NE(t.Header(kAlibabaTokenTtlHeader), nullptr);
  EXPECT_EQ(*t.Header(kAlibabaTokenTtlHeader), "60");
  // A valid token works; an unknown one is 401; an AWS-named header is not a token.
  EXPECT_EQ(Get("/latest/meta-data/instance-id", AliToken(t.body), "ali-port").status, 200);
  EXPECT_EQ(Get("/latest/meta-data/instance-id", AliToken("bogus"), "ali-port").status, 401);
  clock_.Advance(seconds(60));
  EXPECT_EQ(Get("/latest/meta-data/instance-id", AliToken(t.body), "ali-port").status, 401);
}

TEST_F(ImdsRouterTest, AlibabaHardenedModeWithoutTokenIs403) {
  AlibabaMetadataView v = *dir_.AlibabaView("i-0ali");
  v.tokens_required = true;
  dir_.PutAlibaba(v);
  EXPECT_EQ(Get("/latest/meta-data/instance-id", {}, "ali-port").status, 403);
  // An AWS token header on an Alibaba instance is no token at all.
  EXPECT_EQ(Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), "x"}}, "ali-port")
                .status,
            403);
  EXPECT_EQ(Get("/latest/meta-data/instance-id", AliToken(AlibabaToken()), "ali-port").status, 200);
}

// --- Faults ----------------------------------------------------------------------------------

FaultRule Fault(FaultKind kind, std::string path, std::string instance = "i-0aws") {
  FaultRule r;
  r.kind = kind;
  r.path = std::move(path);
  r.instance = std::move(instance);
  return r;
}

TEST_F(ImdsRouterTest, ErrorFaultReplacesTheAnswerForCountRequests) {
  FaultRule r = Fault(FaultKind::kErrorStatus, "/latest/meta-data/instance-id");
  r.status = 503;
  r.count = 1;
  ASSERT_TRUE(faults_.Add(r).ok());
  HttpResponse first = Get("/latest/meta-data/instance-id");
  EXPECT_EQ(first.status, 503);
  EXPECT_NE(first.body.find("503 - Service Unavailable"), std::string::npos);
  EXPECT_EQ(Get("/latest/meta-data/instance-id").status, 200);
}

TEST_F(ImdsRouterTest, FaultsMatchTheInstanceRelativePathUnderAPrefix) {
  FaultRule r = Fault(FaultKind::kErrorStatus, "/latest/meta-data/*");
  r.status = 429;
  ASSERT_TRUE(faults_.Add(r).ok());
  EXPECT_EQ(Get("/i-0aws/latest/meta-data/instance-id", {}, "shared").status, 429);
  EXPECT_EQ(Get("/i-0ali/latest/meta-data/instance-id", {}, "shared").status, 200);
}

TEST_F(ImdsRouterTest, LatencyFaultSetsTheDelay) {
  FaultRule r = Fault(FaultKind::kLatency, "/latest/meta-data/instance-id");
  r.latency = std::chrono::milliseconds(300);
  ASSERT_TRUE(faults_.Add(r).ok());
  HttpResponse slow = Get("/latest/meta-data/instance-id");
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, "i-0aws");
  EXPECT_EQ(slow.delay, std::chrono::milliseconds(300));
  EXPECT_EQ(Get("/latest/meta-data/ami-id").delay, Duration::zero());
}

TEST_F(ImdsRouterTest, DropFaultAsksToCloseWithoutAnswer) {
  ASSERT_TRUE(faults_.Add(Fault(FaultKind::kDrop, "*")).ok());
  EXPECT_TRUE(Get("/latest/meta-data/instance-id").drop_connection);
  EXPECT_FALSE(Get("/latest/meta-data/instance-id", {}, "ali-port").drop_connection);
}

TEST_F(ImdsRouterTest, MalformedFaultTruncatesJson) {
  UpdateAws([](AwsMetadataView& v) {
    v.instance_action = AwsInstanceAction{"terminate", T("2017-09-18T08:22:00Z")};
  });
  ASSERT_TRUE(faults_.Add(Fault(FaultKind::kMalformedBody, "/latest/meta-data/spot/*")).ok());
  HttpResponse r = Get("/latest/meta-data/spot/instance-action");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_EQ(std::string(R"({"action":"terminate","time":"2017-09-18T08:22:00Z"})").rfind(r.body, 0),
            0u);
  EXPECT_FALSE(nlohmann::json::accept(r.body));
}

TEST_F(ImdsRouterTest, ExpireTokensFaultVoidsExistingTokens) {
  std::string token = AwsToken();
  HttpHeaders h = {{std::string(kAwsTokenHeader), token}};
  EXPECT_EQ(Get("/latest/meta-data/instance-id", h).status, 200);
  FaultRule r = Fault(FaultKind::kExpireTokens, "*");
  r.count = 1;
  ASSERT_TRUE(faults_.Add(r).ok());
  EXPECT_EQ(Get("/latest/meta-data/instance-id", h).status, 401);
  // A fresh token works again (the fault fired once).
  EXPECT_EQ(
      Get("/latest/meta-data/instance-id", {{std::string(kAwsTokenHeader), AwsToken()}}).status,
      200);
}

TEST_F(ImdsRouterTest, FlapAlternatesNoticeAnd404) {
  UpdateAws([](AwsMetadataView& v) {
    v.instance_action = AwsInstanceAction{"terminate", T("2017-09-18T08:22:00Z")};
  });
  ASSERT_TRUE(faults_.Add(Fault(FaultKind::kFlap, "/latest/meta-data/spot/instance-action")).ok());
  std::vector<int> seen;
  seen.reserve(4);
  for (int i = 0; i < 4; ++i) seen.push_back(Get("/latest/meta-data/spot/instance-action").status);
  EXPECT_EQ(seen, (std::vector<int>{200, 404, 200, 404}));
  EXPECT_EQ(Get("/latest/meta-data/instance-id").status, 200);  // other paths untouched
}

TEST_F(ImdsRouterTest, MovingNoticeFaultSaysTwoMinutesFromNowOnEveryRequest) {
  UpdateAws([](AwsMetadataView& v) {
    v.instance_action = AwsInstanceAction{"terminate", T("2017-09-18T08:22:00Z")};
    v.termination_time = T("2017-09-18T08:22:00Z");
  });
  ASSERT_TRUE(faults_.Add(Fault(FaultKind::kMovingNotice, "/latest/meta-data/spot/*")).ok());
  const auto time_of = [&] {
    HttpResponse r = Get("/latest/meta-data/spot/instance-action");
    EXPECT_EQ(r.status, 200);
    return nlohmann::json::parse(r.body, nullptr, false).value("time", std::string());
  };
  const std::string first = time_of();
  EXPECT_EQ(first, FormatRfc3339(clock_.Now() + std::chrono::minutes(2)));
  EXPECT_EQ(Get("/latest/meta-data/spot/termination-time").body, first);
  clock_.Advance(seconds(30));
  EXPECT_EQ(time_of(), FormatRfc3339(clock_.Now() + std::chrono::minutes(2)));
  EXPECT_NE(time_of(), first);
}

TEST_F(ImdsRouterTest, MovingNoticeFaultInventsNoNotice) {
  ASSERT_TRUE(faults_.Add(Fault(FaultKind::kMovingNotice, "*")).ok());
  EXPECT_EQ(Get("/latest/meta-data/spot/instance-action").status, 404);
  EXPECT_EQ(Get("/latest/meta-data/instance-id").status, 200);
}

TEST_F(ImdsRouterTest, ErrorPageHasReasonForEveryFaultStatus) {
  for (int s : {429, 500, 503}) {
    HttpResponse r = ImdsErrorPage(s);
    EXPECT_EQ(r.status, s);
    EXPECT_NE(r.body.find("<title>" + std::to_string(s) + " - " + std::string(HttpReason(s))),
              std::string::npos);
  }
}

// --- Focused trees: the router builds each request's tree focused on the requested path. ------

// Every path of a tree, found by walking its listings from "latest", in the spellings a client
// may use (leading and trailing slashes), plus a few that do not exist.
std::vector<std::string> AllPaths(const MetadataTree& tree) {
  std::vector<std::string> out = {"", "/", "latest/nope", "latest/meta-data//instance-id"};
  std::vector<std::string> todo = {"latest"};
  while (!todo.empty()) {
    std::string path = todo.back();
    todo.pop_back();
    out.push_back(path);
    out.push_back("/" + path + "/");
    MetadataTree::Entry e = tree.Lookup(path, true);
    if (e.kind != MetadataTree::Entry::Kind::kDirectory) continue;
    size_t start = 0;
    while (start <= e.body.size()) {
      size_t nl = e.body.find('\n', start);
      std::string child = e.body.substr(start, nl == std::string::npos ? nl : nl - start);
      if (!child.empty() && child.back() == '/') child.pop_back();
      todo.push_back(path + "/" + child);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  return out;
}

using TreeBuilder = std::function<MetadataTree(std::optional<std::string_view>)>;

// For every path, the tree focused on it answers exactly like the full tree.
void ExpectFocusedTreesAnswerLikeTheFullTree(const TreeBuilder& build, size_t min_paths) {
  MetadataTree full = build(std::nullopt);
  std::vector<std::string> paths = AllPaths(full);
  ASSERT_GE(paths.size(), min_paths);
  for (const std::string& path : paths) {
    for (bool mark_dirs : {false, true}) {
      MetadataTree::Entry want = full.Lookup(path, mark_dirs);
      MetadataTree::Entry got = build(path).Lookup(path, mark_dirs);
      EXPECT_EQ(got.kind, want.kind) << path;
      EXPECT_EQ(got.body, want.body) << path;
      EXPECT_EQ(got.content_type, want.content_type) << path;
    }
  }
}

AwsMetadataView AwsInstanceWithEverything() {
  AwsMetadataView v = AwsInstance();
  v.public_hostname = "ec2-3-0-0-5.compute-1.amazonaws.com";
  v.public_ipv4 = "3.0.0.5";
  v.user_data = "#!/bin/sh";
  v.instance_action = AwsInstanceAction{"terminate", T("2026-11-23T12:02:00Z")};
  v.termination_time = T("2026-11-23T12:02:00Z");
  v.rebalance_notice_time = T("2026-11-23T11:58:00Z");
  AwsScheduledEvent e;
  e.code = "system-reboot";
  e.description = "scheduled reboot";
  e.event_id = "instance-event-0d59937288b749b32";
  e.not_before = T("2026-11-24T09:00:00Z");
  e.not_after = T("2026-11-24T11:00:00Z");
  v.scheduled_events.push_back(e);
  v.target_lifecycle_state = "Terminated";
  return v;
}

TEST(FocusedTreeTest, AwsTreeFocusedOnAnyPathAnswersLikeTheFullTree) {
  const AwsMetadataView v = AwsInstanceWithEverything();
  ExpectFocusedTreesAnswerLikeTheFullTree(
      [&](std::optional<std::string_view> focus) { return BuildAwsTree(v, focus); }, 40);
  const AwsMetadataView plain = AwsInstance();
  ExpectFocusedTreesAnswerLikeTheFullTree(
      [&](std::optional<std::string_view> focus) { return BuildAwsTree(plain, focus); }, 30);
}

TEST(FocusedTreeTest, AlibabaTreeFocusedOnAnyPathAnswersLikeTheFullTree) {
  AlibabaMetadataView v = AlibabaInstance();
  v.termination_time = T("2026-11-23T12:05:00Z");
  ExpectFocusedTreesAnswerLikeTheFullTree(
      [&](std::optional<std::string_view> focus) { return BuildAlibabaTree(v, focus); }, 30);
}

TEST(FocusedTreeTest, OnlyTheFocusedLeafValueIsBuilt) {
  const AwsMetadataView v = AwsInstanceWithEverything();
  MetadataTree t = BuildAwsTree(v, "/latest/meta-data/spot/instance-action");
  EXPECT_EQ(t.Lookup("latest/meta-data/spot/instance-action", true).body,
            R"({"action":"terminate","time":"2026-11-23T12:02:00Z"})");
  // Leaves that cannot answer the focus are not kept (the identity document was not serialised).
  MetadataTree::Entry doc = t.Lookup("latest/dynamic/instance-identity/document", true);
  EXPECT_EQ(doc.kind, MetadataTree::Entry::Kind::kNotFound);
  // Focused on a directory, its leaves are kept by name, their values are not built.
  MetadataTree dir = BuildAwsTree(v, "/latest/dynamic/");
  EXPECT_EQ(dir.Lookup("latest/dynamic", true).body, "instance-identity/");
  EXPECT_EQ(dir.Lookup("latest/dynamic/instance-identity/document", true).body, "");
}

}  // namespace
}  // namespace lastcall::mock
