#include "agent/journal_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

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

TEST(JournalSink, SerializesPlainAndBinarySafeFields) {
  EXPECT_EQ(SerializeJournalEntry({"MESSAGE=hello", "PRIORITY=6"}), "MESSAGE=hello\nPRIORITY=6\n");
  // A value with a newline: name, newline, 64-bit little-endian length, the raw value, newline.
  std::string want =
      std::string("MESSAGE\n") + std::string("\x05\0\0\0\0\0\0\0", 8) + "a\nb=c\nHOOK=x\n";
  EXPECT_EQ(SerializeJournalEntry({"MESSAGE=a\nb=c", "HOOK=x"}), want);
  EXPECT_EQ(SerializeJournalEntry({"EMPTY="}), "EMPTY=\n");
}

// A stand-in for journald's socket: a unix datagram socket in a temp dir.
class JournalSocket {
 public:
  JournalSocket() {
    path_ = testing::TempDir() + "/journal-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~JournalSocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  bool bound() const { return bound_; }

  // The next record: the datagram's bytes, or the content of the memfd it carries.
  std::string Read() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return "";
    std::string buf(1 << 16, '\0');
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return "";
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return buf.substr(0, static_cast<size_t>(n));
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    std::string content;
    char chunk[65536];
    ssize_t r;
    while ((r = ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(content.size()))) > 0) {
      content.append(chunk, static_cast<size_t>(r));
    }
    // journald refuses an unsealed file: check that the sender sealed it.
    seals_ = ::fcntl(fd, F_GET_SEALS);
    ::close(fd);
    return content;
  }
  int last_seals() const { return seals_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  int seals_ = 0;
};

TEST(JournalSink, SendsEachRecordAsOneNativeProtocolDatagram) {
  JournalSocket journal;
  ASSERT_TRUE(journal.bound());
  auto sink = MakeJournalSink("lastcalld", journal.path());
  sink->Write(LogPriority::kNotice, "notice seen", {{"notice_id", "aws-1"}, {"phase", "drain"}});
  EXPECT_EQ(journal.Read(),
            "MESSAGE=notice seen\nPRIORITY=5\nSYSLOG_IDENTIFIER=lastcalld\nNOTICE_ID=aws-1\n"
            "PHASE=drain\n");
}

TEST(JournalSink, ARecordTooLargeForADatagramGoesAsASealedMemfd) {
  JournalSocket journal;
  ASSERT_TRUE(journal.bound());
  auto sink = MakeJournalSink("lastcalld", journal.path());
  // Larger than any unix datagram the kernel accepts by default (wmem_max is about 208 KiB).
  std::string big(1 << 20, 'x');
  sink->Write(LogPriority::kInfo, big, {});
  std::string got = journal.Read();
  EXPECT_EQ(got, "MESSAGE=" + big + "\nPRIORITY=6\nSYSLOG_IDENTIFIER=lastcalld\n");
  EXPECT_TRUE(journal.last_seals() & F_SEAL_WRITE);
}

TEST(JournalSink, FallsBackToStderrWhenTheJournalIsNotListening) {
  std::string missing = testing::TempDir() + "/no-journal-here.sock";
  ::unlink(missing.c_str());
  auto sink = MakeJournalSink("lastcalld", missing);
  testing::internal::CaptureStderr();
  sink->Write(LogPriority::kWarning, "poll failed", {{"reason", "timeout"}});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("<4>"), std::string::npos) << err;
  EXPECT_NE(err.find("poll failed"), std::string::npos) << err;
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
