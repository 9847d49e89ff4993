#include "common/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace lastcall {
namespace {

TEST(QuoteTest, EscapesControlBytesQuotesAndInvalidUtf8) {
  EXPECT_EQ(Quote("i-0abc"), "\"i-0abc\"");
  EXPECT_EQ(Quote("a\nb\r\tc"), "\"a\\nb\\r\\tc\"");
  EXPECT_EQ(Quote("say \"hi\" \\ ok"), "\"say \\\"hi\\\" \\\\ ok\"");
  EXPECT_EQ(Quote(std::string("\x00\x1b[2J\x7f", 6)), "\"\\x00\\x1b[2J\\x7f\"");
  EXPECT_EQ(Quote("\xff\xfe"), "\"\\xff\\xfe\"");
  EXPECT_EQ(Quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");       // valid UTF-8 kept
  EXPECT_EQ(Quote("\xc2\x85"), "\"\\xc2\\x85\"");           // NEL, a C1 control
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // a surrogate
  EXPECT_EQ(Quote("\xc0\xaf"), "\"\\xc0\\xaf\"");           // overlong '/'
}

// Regression (issue 11, item 2): a wrong-typed field was logged untruncated (64 KB lines).
TEST(QuoteTest, LongForeignTextIsCutAndSaysHowLongItWas) {
  std::string big(70000, 'x');
  std::string q = Quote(big);
  EXPECT_EQ(q, "\"" + std::string(kQuoteLimit, 'x') + "...\" (70000 bytes)");
  EXPECT_EQ(Quote("abcdef", 3), "\"abc...\" (6 bytes)");
  // A multi-byte character is not split at the bound.
  EXPECT_EQ(Quote("ab\xc3\xa9", 3), "\"ab...\" (4 bytes)");
}

TEST(EscapeControlTest, LeavesPrintableTextAndQuotesAlone) {
  EXPECT_EQ(EscapeControl("notice \"x\" at C:\\"), "notice \"x\" at C:\\");
  EXPECT_EQ(EscapeControl("x\n<0>FORGED"), "x\\n<0>FORGED");
  EXPECT_EQ(EscapeControl("\xff"), "\\xff");
}

TEST(Utf8Test, ValidatesAndRepairs) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_EQ(ToValidUtf8("ok"), "ok");
  EXPECT_EQ(ToValidUtf8("a\xff\xfe"
                        "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xc0\x80\xed\xa0\x80 \xf8")));
}

}  // namespace
}  // namespace lastcall
