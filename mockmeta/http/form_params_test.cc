#include "mockmeta/http/form_params.h"

#include <gtest/gtest.h>

namespace lastcall::mock {
namespace {

TEST(FormParamsTest, DecodesEscapesAndPlus) {
  FormParams p;
  ASSERT_TRUE(FormParams::DecodeInto("a=1&b=x%20y+z&c=&d", p).ok());
  EXPECT_EQ(*p.Get("a"), "1");
  EXPECT_EQ(*p.Get("b"), "x y z");
  EXPECT_EQ(*p.Get("c"), "");
  EXPECT_EQ(*p.Get("d"), "");
  EXPECT_FALSE(p.Has("e"));
}

TEST(FormParamsTest, RefusesMalformedEscapesAndDuplicates) {
  FormParams p;
  EXPECT_FALSE(FormParams::DecodeInto("a=%zz", p).ok());
  FormParams q;
  EXPECT_FALSE(FormParams::DecodeInto("a=%4", q).ok());
  FormParams r;
  Status s = FormParams::DecodeInto("a=1&a=2", r);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("more than once"), std::string::npos);
  FormParams t;
  ASSERT_TRUE(FormParams::DecodeInto("a=1", t).ok());
  EXPECT_FALSE(FormParams::DecodeInto("a=2", t).ok()) << "query and body share one namespace";
}

}  // namespace
}  // namespace lastcall::mock
