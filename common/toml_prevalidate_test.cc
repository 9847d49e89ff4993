#include "common/toml_prevalidate.h"

#include <gtest/gtest.h>

#include <string>

namespace lastcall {
namespace {

// Regression (issue 11, item 8): toml++ 3.3 reached __builtin_unreachable on a non-ASCII
// character outside a string (undefined behaviour) and asserted on "[" followed by NUL.
TEST(PrevalidateToml, NonAsciiOutsideStringsAndNulAreRefusedWithTheirPosition) {
  EXPECT_EQ(PrevalidateToml("a = 1\n\xc3\xa9 = 1\n", "f.toml").message(),
            "f.toml:2:1: a non-ASCII character is only allowed inside a string or a comment "
            "(quote the key: \"k\" = ...)");
  EXPECT_EQ(PrevalidateToml(std::string("[\0", 2), "f.toml").message(),
            "f.toml:1:2: a NUL byte is not allowed in a TOML file");
  // Columns count code points, as toml++ does.
  EXPECT_EQ(PrevalidateToml("s = \"\xc3\xa9\" \xc3\xa9", "f").message().rfind("f:1:9: ", 0), 0u);
}

TEST(PrevalidateToml, NonAsciiInsideEveryStringFormAndCommentsIsFine) {
  EXPECT_TRUE(PrevalidateToml("# caf\xc3\xa9\n"
                              "a = \"caf\xc3\xa9 \\\" still \xc3\xa9\"\n"
                              "b = 'caf\xc3\xa9'\n"
                              "c = \"\"\"x\n\xc3\xa9\"\"\"\"\"\n"
                              "d = '''\xc3\xa9\n'''\n"
                              "[\"\xc3\xa9\"]\n"
                              "[[ 'x' . \"\xc3\xa9\" ]]\n"
                              "e = [\n  # c\n  \"\xc3\xa9\",\n  '\xc3\xa9' ]\n"
                              "f = { \"\xc3\xa9\" = 1, g = \"\xc3\xa9\" }\n"
                              "  \"\xc3\xa9\".h = 1\n",
                              "f")
                  .ok());
}

// Regression (found by config_loader_fuzz): a quote inside a bare token (`4m"...`) opens no
// string for toml++, which walked the non-ASCII after it and reached its unreachable branch.
TEST(PrevalidateToml, AQuoteInsideABareTokenOpensNoString) {
  EXPECT_FALSE(
      PrevalidateToml("[metrics]\ntextfi = 4m\"127e;vil\xce\x92\x90\xdc:.977\"\n", "f").ok());
  EXPECT_FALSE(PrevalidateToml("t =2p\"\x18\x18/\xd1\x90\"\x18", "f").ok());
  EXPECT_FALSE(PrevalidateToml("a = \"x\"\"\xc3\xa9\"\n", "f").ok());
}

}  // namespace
}  // namespace lastcall
