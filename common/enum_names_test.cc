#include "common/enum_names.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

enum class Color { kRed, kGreen, kBlue };
constexpr EnumNames<Color, 2> kColorNames = {{{Color::kRed, "red"}, {Color::kGreen, "green"}}};

TEST(EnumNames, NameOfAndValueOfReadOneTable) {
  static_assert(NameOf(kColorNames, Color::kGreen) == "green");
  EXPECT_EQ(NameOf(kColorNames, Color::kRed), "red");
  EXPECT_EQ(ValueOf(kColorNames, "red"), Color::kRed);
  EXPECT_EQ(ValueOf(kColorNames, "green"), Color::kGreen);
}

TEST(EnumNames, AValueMissingFromItsTableIsUnknownAndNoNameParsesToIt) {
  EXPECT_EQ(NameOf(kColorNames, Color::kBlue), "unknown");
  EXPECT_FALSE(ValueOf(kColorNames, "blue").has_value());
  EXPECT_FALSE(ValueOf(kColorNames, "unknown").has_value());
  EXPECT_FALSE(ValueOf(kColorNames, "Red").has_value());  // case-sensitive
  EXPECT_FALSE(ValueOf(kColorNames, "").has_value());
}

}  // namespace
}  // namespace lastcall
