#include "agent/systemd/journal_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

#include "tests/support/files.h"
#include "tests/support/process.h"

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

// journald's socket is a fixed path in libsystemd (/run/systemd/journal/socket). To see what
// sd_journal_sendv really sends, a forked child gets a private mount namespace with a temp dir
// bound over /run, and the test listens on <dir>/systemd/journal/socket. The host's journal is
// never touched.
class PrivateRun {
 public:
  PrivateRun() {
    std::string journal = dir_ + "/systemd/journal";
    ::mkdir((dir_ + "/systemd").c_str(), 0755);
    ::mkdir(journal.c_str(), 0755);
    path_ = journal + "/socket";
  }
  ~PrivateRun() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Listen() {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    // journald's receive buffer is large; the default would refuse a 200 KiB datagram.
    int size = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    return ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }

  // Runs `fn` in a child whose /run is the temp dir, with its stderr going to <dir>/stderr.
  // The child's exit status: 0 when fn ran, 2 when the namespace could not be set up.
  int RunInChild(const std::function<void()>& fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int err = ::open((dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (err < 0 || ::dup2(err, STDERR_FILENO) < 0) ::_exit(2);
      // As root a mount namespace is enough; otherwise a user namespace grants the right.
      if (::unshare(CLONE_NEWNS) != 0 && ::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) ::_exit(2);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(2);
      if (::mount(dir_.c_str(), "/run", nullptr, MS_BIND, nullptr) != 0) ::_exit(2);
      fn();
      ::_exit(0);
    }
    // Bounded: a child stuck in the namespace set-up fails the test instead of hanging it.
    const std::optional<int> status = testing::WaitChildExit(pid, std::chrono::seconds(10));
    if (!status) {
      testing::KillAndReap(pid);
      return -1;
    }
    return testing::ExitCode(*status);
  }

  void StopListening() {
    ::close(fd_);
    fd_ = -1;
  }

  std::string Stderr() const { return testing::ReadFile(dir_ + "/stderr"); }

  // The next record: the datagram's bytes, or the content of the memfd it carries.
  std::string Read() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return "";
    std::string buf(4 << 20, '\0');
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
    ::close(fd);
    return content;
  }

 private:
  const testing::TempDir tmp_{"lastcall-journal"};
  const std::string dir_ = tmp_.path();
  std::string path_;
  int fd_ = -1;
};

TEST(JournalSink, SendsEachRecordWithItsFieldsToTheJournal) {
  PrivateRun run;
  ASSERT_TRUE(run.Listen());
  ASSERT_EQ(run.RunInChild([] {
    MakeJournalSink("lastcalld")
        ->Write(LogPriority::kNotice, "notice seen", {{"notice_id", "aws-1"}, {"phase", "drain"}});
  }),
            0);
  EXPECT_EQ(run.Read(),
            "MESSAGE=notice seen\nPRIORITY=5\nSYSLOG_IDENTIFIER=lastcalld\nNOTICE_ID=aws-1\n"
            "PHASE=drain\n");
  EXPECT_EQ(run.Stderr(), "");
}

// A value with a newline goes in the binary-safe form: name, newline, 64-bit little-endian
// length, the raw value; and a record larger than a datagram still arrives whole.
TEST(JournalSink, MultiLineAndLargeRecordsArriveWhole) {
  PrivateRun run;
  ASSERT_TRUE(run.Listen());
  const std::string big(1 << 20, 'x');
  ASSERT_EQ(run.RunInChild([&big] {
    auto sink = MakeJournalSink("lastcalld");
    sink->Write(LogPriority::kInfo, "a\nb=c", {{"hook", "x"}});
    sink->Write(LogPriority::kInfo, big, {});
  }),
            0);
  EXPECT_EQ(run.Read(), std::string("MESSAGE\n") + std::string("\x05\0\0\0\0\0\0\0", 8) +
                            "a\nb=c\nPRIORITY=6\nSYSLOG_IDENTIFIER=lastcalld\nHOOK=x\n");
  const std::string got = run.Read();
  EXPECT_EQ(got.size(), big.size() + 48);
  EXPECT_TRUE(got == "MESSAGE=" + big + "\nPRIORITY=6\nSYSLOG_IDENTIFIER=lastcalld\n");
  EXPECT_EQ(run.Stderr(), "");
}

// The socket file is there but nobody reads it (journald restarting): the line goes to stderr.
TEST(JournalSink, FallsBackToStderrWhenTheJournalIsNotListening) {
  PrivateRun run;
  ASSERT_TRUE(run.Listen());
  run.StopListening();
  ASSERT_EQ(run.RunInChild([] {
    MakeJournalSink("lastcalld")
        ->Write(LogPriority::kWarning, "poll failed", {{"reason", "timeout"}});
  }),
            0);
  EXPECT_EQ(run.Stderr(), "<4>poll failed reason=timeout\n");
}

TEST(JournalSink, JournalStreamMustMatchTheFdsDeviceAndInode) {
  const testing::TempDir dir;
  const std::string path = dir / "journal-stream-test";
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
}

TEST(JournalSink, DefaultIsStderrWhenJournalStreamIsNotOurs) {
  // MakeDefaultSink reads the variable; this test's one thread is the only one using it.
  ::setenv("JOURNAL_STREAM", "1:1", 1);
  auto sink = MakeDefaultSink("lastcalld");
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_NE(sink, nullptr);
  // The journal sink has a different dynamic type than the stderr sink (references, so typeid
  // evaluates no call).
  const auto stderr_sink = MakeStderrSink();
  const auto journal_sink = MakeJournalSink("x");
  const LogSink& chosen = *sink;
  const LogSink& plain = *stderr_sink;
  const LogSink& journal = *journal_sink;
  EXPECT_EQ(typeid(chosen), typeid(plain));
  EXPECT_NE(typeid(journal), typeid(plain));
}

}  // namespace
}  // namespace lastcall
