#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lastcall {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, std::string_view content, const std::string& what) {
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("cannot write " + what + ": " + ErrnoText(errno));
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// O_EXCL|O_NOFOLLOW: a file or symlink already at the temporary's name (a crash's leftover, or
// one planted by someone who can write the directory) is never opened or followed. It is
// unlinked (which removes a symlink itself, not its target) and the create tried once more.
Result<Fd> CreateTemporary(const std::string& tmp, mode_t mode) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(tmp.c_str(), kFlags, mode);
    if (fd >= 0) return Fd(fd);
    if (errno != EEXIST || attempt > 0) break;
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) break;
  }
  return Unavailable("cannot create " + tmp + ": " + ErrnoText(errno));
}

Status SyncDirectory(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return Unavailable("cannot open " + dir + " to fsync it: " + ErrnoText(errno));
  if (::fsync(d.get()) != 0) return Unavailable("cannot fsync " + dir + ": " + ErrnoText(errno));
  return d.Close(dir);
}

}  // namespace

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Status Fd::Close(std::string_view what) {
  int fd = release();
  if (fd < 0) return Status::Ok();
  // Linux closes the descriptor even when close fails (EINTR included): never retry.
  if (::close(fd) != 0) {
    return Unavailable("cannot close " + std::string(what) + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

std::string ErrnoText(int err) {
  char buf[256];
  // The GNU strerror_r: returns the text (in buf, or a static string); it does not fail.
  return ::strerror_r(err, buf, sizeof buf);
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgument("cannot create a directory with an empty name");
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    std::string partial = path.substr(0, i);
    if (::mkdir(partial.c_str(), mode) == 0) continue;
    int err = errno;
    if (err != EEXIST) {
      return Unavailable("cannot create directory " + partial + ": " + ErrnoText(err));
    }
    struct stat st {};
    if (::stat(partial.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Unavailable("cannot create directory " + partial + ": it exists and is not one");
    }
  }
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, std::string_view content,
                           AtomicWriteOptions options) {
  const std::string tmp = path + ".tmp";
  Result<Fd> fd = CreateTemporary(tmp, options.mode);
  if (!fd.ok()) return fd.status();
  Status st = WriteAll(fd->get(), content, tmp);
  if (st.ok() && options.sync && ::fsync(fd->get()) != 0) {
    st = Unavailable("cannot fsync " + tmp + ": " + ErrnoText(errno));
  }
  Status closed = fd->Close(tmp);
  if (st.ok()) st = closed;
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Unavailable("cannot rename " + tmp + " to " + path + ": " + ErrnoText(errno));
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename itself is only durable once the directory is synced.
  return options.sync ? SyncDirectory(DirOf(path)) : Status::Ok();
}

namespace {

// What a non-regular file is, for an error message that tells the operator what they pointed at.
std::string_view FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

}  // namespace

Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes,
                                    ReadOptions options) {
  int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (options.follow_symlinks ? 0 : O_NOFOLLOW);
  Fd fd(::open(path.c_str(), flags));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return NotFound("cannot open " + path + ": " + ErrnoText(err));
    if (err == ELOOP) return DataLoss(path + " is a symbolic link, not a regular file");
    return Unavailable("cannot open " + path + ": " + ErrnoText(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Unavailable("cannot stat " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return DataLoss(path + " is " + std::string(FileTypeName(st.st_mode)) + ", not a regular file");
  }
  if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    return DataLoss(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string data;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("cannot read " + path + ": " + ErrnoText(errno));
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    // Checked again while reading: the file may grow after the fstat.
    if (data.size() > max_bytes) {
      return DataLoss(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return data;
}

}  // namespace lastcall
