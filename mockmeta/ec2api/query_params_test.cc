#include "mockmeta/ec2api/query_params.h"

#include <gtest/gtest.h>

namespace lastcall::mock::ec2 {
namespace {

QueryParams Decode(std::string_view form) {
  QueryParams p;
  Status s = QueryParams::DecodeInto(form, p);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

TEST(QueryParamsTest, DecodesPercentEscapesAndPlus) {
  QueryParams p = Decode("Action=RunInstances&Tag.1.Value=a+b%2Fc%3D&Empty=&Bare");
  EXPECT_EQ(*p.Get("Action"), "RunInstances");
  EXPECT_EQ(*p.Get("Tag.1.Value"), "a b/c=");
  EXPECT_EQ(*p.Get("Empty"), "");
  EXPECT_EQ(*p.Get("Bare"), "");
  EXPECT_EQ(p.Get("Missing"), nullptr);
}

TEST(QueryParamsTest, RefusesMalformedEscapesAndDuplicates) {
  QueryParams p;
  EXPECT_FALSE(QueryParams::DecodeInto("a=%zz", p).ok());
  EXPECT_FALSE(QueryParams::DecodeInto("a=%4", p).ok());
  EXPECT_FALSE(QueryParams::DecodeInto("a=%", p).ok());
  EXPECT_FALSE(QueryParams::DecodeInto("=x", p).ok());
  QueryParams q;
  Status dup = QueryParams::DecodeInto("a=1&a=2", q);
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("more than once"), std::string::npos);
}

TEST(QueryParamsTest, ListsAreReadInIndexOrderNotNameOrder) {
  // "InstanceId.10" sorts before "InstanceId.2" as a string; the list must not.
  QueryParams p = Decode("InstanceId.2=b&InstanceId.10=c&InstanceId.1=a");
  ParamReader r(p);
  EXPECT_EQ(r.List("InstanceId"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(r.ok());
}

TEST(QueryParamsTest, FiltersAndTags) {
  QueryParams p = Decode(
      "Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=pending&"
      "Filter.2.Name=tag%3Aenv&Filter.2.Value.1=prod&"
      "TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&"
      "TagSpecification.1.Tag.1.Value=web");
  ParamReader r(p);
  std::vector<Filter> f = r.Filters();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "instance-state-name");
  EXPECT_EQ(f[0].values, (std::vector<std::string>{"running", "pending"}));
  EXPECT_EQ(f[1].name, "tag:env");
  std::vector<TagSpecification> ts = r.TagSpecifications();
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].resource_type, "instance");
  ASSERT_EQ(ts[0].tags.size(), 1u);
  EXPECT_EQ(ts[0].tags[0].key, "Name");
  EXPECT_EQ(ts[0].tags[0].value, "web");
  EXPECT_TRUE(r.ok());
}

TEST(QueryParamsTest, WrongTypesNameTheParameter) {
  QueryParams p = Decode("MaxCount=ten&MinCount=0&DryRun=yes&SpotPrice=1e3&StartTime=yesterday");
  {
    ParamReader r(p);
    r.Integer("MaxCount", 1, 100);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error()->code, Ec2ErrorCode::kInvalidParameterValue);
    EXPECT_NE(r.error()->message.find("MaxCount"), std::string::npos);
  }
  {
    ParamReader r(p);
    r.Integer("MinCount", 1, 100);
    EXPECT_NE(r.error()->message.find("Expected 1 to 100"), std::string::npos);
  }
  for (const char* name : {"DryRun", "SpotPrice", "StartTime"}) {
    ParamReader r(p);
    if (std::string(name) == "DryRun") r.Bool(name);
    if (std::string(name) == "SpotPrice") r.Price(name);
    if (std::string(name) == "StartTime") r.Time(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error()->message.find(name), std::string::npos);
  }
}

TEST(QueryParamsTest, MissingRequiredAndBadIndex) {
  QueryParams p = Decode("Filter.x.Name=a&InstanceId.0=i-1");
  {
    ParamReader r(p);
    r.String("InstanceType", true);
    EXPECT_EQ(r.error()->code, Ec2ErrorCode::kMissingParameter);
  }
  {
    ParamReader r(p);
    r.Filters();
    EXPECT_EQ(r.error()->code, Ec2ErrorCode::kInvalidParameterValue);
  }
  {
    ParamReader r(p);
    r.List("InstanceId");
    EXPECT_FALSE(r.ok());
  }
}

TEST(QueryParamsTest, IdShapes) {
  EXPECT_TRUE(IsInstanceId("i-0123456789abcdef0"));
  EXPECT_TRUE(IsInstanceId("i-12345678"));
  EXPECT_FALSE(IsInstanceId("i-XYZ"));
  EXPECT_FALSE(IsInstanceId("sir-12345678"));
  EXPECT_TRUE(IsSpotRequestId("sir-ab12cd34"));
  EXPECT_FALSE(IsSpotRequestId("sir-AB12CD34"));
}

}  // namespace
}  // namespace lastcall::mock::ec2
