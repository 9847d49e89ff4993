#include "agent/base/log.h"

#include <gtest/gtest.h>

#include <string>

namespace lastcall {
namespace {

// Regression (issue 11, item 2): a metadata body "garbage\n<0>..." wrote a forged line with
// priority 0 into the log. The sink writes one line per call, whatever the message holds.
TEST(StderrSinkTest, ForgedPriorityLineInMessageOrFieldIsEscaped) {
  std::string line = FormatStderrLine(LogPriority::kWarning, "poll failed: x\n<0>FORGED",
                                      {{"NOTICE_ID", "n\r\n<3>FORGED"}});
  EXPECT_EQ(line, "<4>poll failed: x\\n<0>FORGED NOTICE_ID=n\\r\\n<3>FORGED\n");
}

TEST(StderrSinkTest, ControlBytesAndInvalidUtf8NeverReachTheLine) {
  std::string line =
      FormatStderrLine(LogPriority::kInfo, std::string("a\0b\x1b[2J\xff", 8), {{"K\n", "\x7f"}});
  EXPECT_EQ(line, "<6>a\\x00b\\x1b[2J\\xff K\\n=\\x7f\n");
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << i;
  }
}

TEST(StderrSinkTest, LinesAreBounded) {
  std::string line = FormatStderrLine(LogPriority::kInfo, std::string(100000, 'x'), {});
  EXPECT_LE(line.size(), kMaxLogLine + 32);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_NE(line.find("... (line cut)\n"), std::string::npos);
}

}  // namespace
}  // namespace lastcall
