#include "mockmeta/core/cloud_error.h"

#include <gtest/gtest.h>

namespace lastcall::mock {
namespace {

TEST(CloudErrorTest, CodeIsAFieldBesideTheMessage) {
  Status s = CloudError(StatusCode::kInvalidArgument, "InvalidSpotPriceLimit.LowerThanPublicPrice",
                        "SpotPriceLimit 0.1 is below the market price 0.2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CloudErrorCode(s), "InvalidSpotPriceLimit.LowerThanPublicPrice");
  EXPECT_EQ(s.message(), "SpotPriceLimit 0.1 is below the market price 0.2");
  EXPECT_EQ(CloudErrorText(s),
            "InvalidSpotPriceLimit.LowerThanPublicPrice: SpotPriceLimit 0.1 is below the market "
            "price 0.2");
}

// Packed into the message, the code was lost as soon as anyone added context in front of it.
TEST(CloudErrorTest, CodeSurvivesContext) {
  Status s = CloudError(StatusCode::kResourceExhausted, "OperationDenied.NoStock", "no stock")
                 .WithContext("demo.toml:12:1: alibaba.instance[0]");
  EXPECT_EQ(CloudErrorCode(s), "OperationDenied.NoStock");
  EXPECT_EQ(s.message(), "demo.toml:12:1: alibaba.instance[0]: no stock");
}

// A message that merely looks like "<Code>: ..." carries no code: nothing parses messages.
TEST(CloudErrorTest, PlainStatusHasNoCodeWhateverItsMessage) {
  Status s = InvalidArgument("InvalidParameterValue: written by hand");
  EXPECT_EQ(CloudErrorCode(s), "");
  EXPECT_EQ(CloudErrorText(s), s.message());
}

}  // namespace
}  // namespace lastcall::mock
