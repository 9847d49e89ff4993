#include "agent/journal_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lastcall {
namespace {

TEST(JournalSink, FieldNamesAreUppercasedAndSanitised) {
  EXPECT_EQ(JournalFieldName("notice_id"), "NOTICE_ID");
  EXPECT_EQ(JournalFieldName("hook"), "HOOK");
  EXPECT_EQ(JournalFieldName("phase"), "PHASE");
  EXPECT_EQ(JournalFieldName("clock-skew.ms"), "CLOCK_SKEW_MS");
  EXPECT_EQ(JournalFieldName("_trusted"), "F_TRUSTED");
  EXPECT_EQ(JournalFieldName("9lives"), "F9LIVES");
}

TEST(JournalSink, EntryCarriesMessagePriorityIdentifierAndFields) {
  std::vector<std::string> e = JournalEntry("lastcalld", LogPriority::kWarning, "hook timed out",
                                            {{"notice_id", "aws-interruption-i-1-x"},
                                             {"hook", "save"},
                                             {"phase", "checkpoint"},
                                             {"message", "shadow"}});
  EXPECT_EQ(e, (std::vector<std::string>{"MESSAGE=hook timed out", "PRIORITY=4",
                                         "SYSLOG_IDENTIFIER=lastcalld",
                                         "NOTICE_ID=aws-interruption-i-1-x", "HOOK=save",
                                         "PHASE=checkpoint", "FIELD_MESSAGE=shadow"}));
}

TEST(JournalSink, JournalStreamMustMatchTheFdsDeviceAndInode) {
  std::string path = testing::TempDir() + "/journal-stream-test";
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  std::string good = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_TRUE(JournalStreamMatches(good.c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches(other.c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches(nullptr, fd));
  EXPECT_FALSE(JournalStreamMatches("", fd));
  EXPECT_FALSE(JournalStreamMatches("12", fd));
  EXPECT_FALSE(JournalStreamMatches((good + "x").c_str(), fd));
  ::close(fd);
  ::unlink(path.c_str());
}

TEST(JournalSink, DefaultIsStderrWhenJournalStreamIsNotOurs) {
  ::setenv("JOURNAL_STREAM", "1:1", 1);
  auto sink = MakeDefaultSink("lastcalld");
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_NE(sink, nullptr);
  // The journal sink has a different dynamic type than the stderr sink.
  EXPECT_EQ(typeid(*sink), typeid(*MakeStderrSink()));
  EXPECT_NE(typeid(*MakeJournalSink("x")), typeid(*MakeStderrSink()));
}

}  // namespace
}  // namespace lastcall
