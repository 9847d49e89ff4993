#include "mockmeta/core/cloud_error.h"

#include <gtest/gtest.h>

namespace lastcall::mock {
namespace {

TEST(CloudErrorTest, CodeAndMessageRoundTrip) {
  Status s = CloudError(StatusCode::kInvalidArgument, "InvalidSpotPriceLimit.LowerThanPublicPrice",
                        "SpotPriceLimit 0.1 is below the market price 0.2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CloudErrorCode(s), "InvalidSpotPriceLimit.LowerThanPublicPrice");
  EXPECT_EQ(CloudErrorMessage(s), "SpotPriceLimit 0.1 is below the market price 0.2");
}

TEST(CloudErrorTest, PlainStatusHasNoCode) {
  Status s = InvalidArgument("demo.toml:3:1: pool[0].capacity: must be an integer");
  EXPECT_EQ(CloudErrorCode(s), "");
  EXPECT_EQ(CloudErrorMessage(s), s.message());
}

}  // namespace
}  // namespace lastcall::mock
