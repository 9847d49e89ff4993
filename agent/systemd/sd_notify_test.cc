#include "agent/systemd/sd_notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace lastcall {
namespace {

// A real NOTIFY_SOCKET: a unix datagram socket in a temp dir, as systemd provides.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = testing::TempDir() + "/notify-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next datagram, or "" after a bounded wait.
  std::string Read(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return "";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SdNotifier, SendsDatagramsToNotifySocket) {
  NotifySocket sock;
  ASSERT_TRUE(sock.bound());
  SdNotifier n;
  n.Notify("READY=1\nSTATUS=watching aws");
  EXPECT_EQ(sock.Read(), "READY=1\nSTATUS=watching aws");
  n.Notify("STOPPING=1");
  EXPECT_EQ(sock.Read(), "STOPPING=1");
}

TEST(SdNotifier, SendsToAnAbstractNamespaceSocket) {
  // NOTIFY_SOCKET="@name": the abstract namespace, as systemd uses for some services.
  std::string name = "lastcall-notify-test-" + std::to_string(::getpid());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ::setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1);
  SdNotifier n;
  n.Notify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  char buf[64];
  ssize_t got = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(got, 0))), "READY=1");
}

TEST(SdNotifier, ABadNotifySocketIsIgnored) {
  SdNotifier n;
  for (const char* bad : {"relative/path", "@", "/nonexistent/dir/notify.sock"}) {
    ::setenv("NOTIFY_SOCKET", bad, 1);
    n.Notify("READY=1");  // nothing to tell, nothing to crash or block
  }
  // The next good socket gets exactly the next message: nothing was queued for the bad ones.
  NotifySocket sock;
  ASSERT_TRUE(sock.bound());
  n.Notify("STATUS=after");
  EXPECT_EQ(sock.Read(), "STATUS=after");
  EXPECT_EQ(sock.Read(/*timeout_ms=*/50), "");
}

TEST(SdNotifier, WithoutNotifySocketIsANoOp) {
  NotifySocket sock;  // a listener exists, but the environment does not name it
  ASSERT_TRUE(sock.bound());
  ::unsetenv("NOTIFY_SOCKET");
  SdNotifier n;
  n.Notify("READY=1");
  EXPECT_EQ(sock.Read(/*timeout_ms=*/50), "");
}

TEST(SdNotifier, WatchdogIntervalIsHalfOfWatchdogUsecForThisPid) {
  SdNotifier n;
  ::setenv("WATCHDOG_USEC", "2000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(n.WatchdogInterval(), std::optional<Duration>(std::chrono::seconds(1)));
  // Meant for another process (e.g. inherited from a parent): not ours.
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);
  ::setenv("WATCHDOG_PID", "not-a-pid", 1);
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);
  ::unsetenv("WATCHDOG_PID");
  // Without WATCHDOG_PID the watchdog is ours; a malformed WATCHDOG_USEC means none.
  EXPECT_EQ(n.WatchdogInterval(), std::optional<Duration>(std::chrono::seconds(1)));
  ::setenv("WATCHDOG_USEC", "2s", 1);
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);
}

TEST(SdNotifier, MessageBuilders) {
  MonoTime t{std::chrono::seconds(12)};
  EXPECT_EQ(ReloadingMessage(t), "RELOADING=1\nMONOTONIC_USEC=12000000");
  EXPECT_EQ(StatusMessage("a\nb\rc"), "STATUS=a b c");
}

}  // namespace
}  // namespace lastcall
