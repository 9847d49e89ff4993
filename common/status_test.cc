#include "common/status.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Status HalfTwice(int n, int* out) {
  auto a = Half(n);
  LASTCALL_RETURN_IF_ERROR(a.status());
  auto b = Half(*a);
  LASTCALL_RETURN_IF_ERROR(b.status());
  *out = *b;
  return Status::Ok();
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = InvalidArgument("poll_interval must be at least 100ms");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "invalid-argument: poll_interval must be at least 100ms");
  EXPECT_EQ(s.WithContext("lastcalld.toml:3:1").message(),
            "lastcalld.toml:3:1: poll_interval must be at least 100ms");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Status, CarriesAReasonBesideTheMessage) {
  Status s(StatusCode::kResourceExhausted, "no stock in cn-hangzhou-b", "OperationDenied.NoStock");
  EXPECT_EQ(s.reason(), "OperationDenied.NoStock");
  EXPECT_EQ(s.message(), "no stock in cn-hangzhou-b");
  Status in_file = s.WithContext("demo.toml:4:1");
  EXPECT_EQ(in_file.reason(), "OperationDenied.NoStock");
  EXPECT_EQ(in_file.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(InvalidArgument("x").reason(), "");
  EXPECT_FALSE(s == Status(StatusCode::kResourceExhausted, "no stock in cn-hangzhou-b"));
}

TEST(Result, HoldsValueOrError) {
  int out = 0;
  EXPECT_TRUE(HalfTwice(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = HalfTwice(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "3 is odd");
  EXPECT_EQ(Half(3).value_or(-1), -1);
}

// A module whose errors carry more than a Status (the control API's ApiError) uses the same
// Result with its own error type.
TEST(Result, CarriesAnOwnErrorType) {
  struct Problem {
    int status;
    std::string field;
  };
  auto parse = [](int n) -> Result<int, Problem> {
    if (n < 0) return Problem{400, "n"};
    return n * 2;
  };
  Result<int, Problem> good = parse(2);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  Result<int, Problem> bad = parse(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(bad.error().field, "n");
  EXPECT_EQ(bad.value_or(7), 7);
}

}  // namespace
}  // namespace lastcall
