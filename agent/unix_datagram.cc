#include "agent/unix_datagram.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace lastcall {
namespace {

// Closes the descriptor it owns on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status Errno(std::string_view what, std::string_view address) {
  return Unavailable(std::string(what) + " " + std::string(address) + ": " + std::strerror(errno));
}

// The payload in a sealed memory file, for datagrams too large to send inline.
int SealedMemfd(std::string_view payload) {
  int fd = ::memfd_create("lastcalld-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < payload.size()) {
    ssize_t n = ::write(fd, payload.data() + done, payload.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  // journald only accepts a sealed file: the sender cannot change it after the fact.
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Status SendUnixDatagram(std::string_view address, std::string_view payload, bool fd_fallback) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (address.size() < 2 || address.size() >= sizeof addr.sun_path ||
      (address[0] != '/' && address[0] != '@')) {
    return InvalidArgument("not a unix socket address: \"" + std::string(address) + "\"");
  }
  std::memcpy(addr.sun_path, address.data(), address.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());

  Fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return Errno("socket for", address);

  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (::sendmsg(sock.get(), &msg, MSG_NOSIGNAL) >= 0) return Status::Ok();
  if (errno != EMSGSIZE || !fd_fallback) return Errno("send to", address);

  Fd mem(SealedMemfd(payload));
  if (mem.get() < 0) return Errno("memfd for", address);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr fdmsg{};
  fdmsg.msg_name = &addr;
  fdmsg.msg_namelen = len;
  fdmsg.msg_control = control;
  fdmsg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&fdmsg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = mem.get();
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (::sendmsg(sock.get(), &fdmsg, MSG_NOSIGNAL) < 0) return Errno("send fd to", address);
  return Status::Ok();
}

}  // namespace lastcall
