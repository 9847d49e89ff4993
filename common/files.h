// Files and descriptors: the one place lastcall opens, writes and creates them.
//
// Every module that keeps a file (the agent's state records, status.json, the metrics textfile,
// mockmeta's ready file) or reads one it did not write (state records, the config, DMI files)
// goes through these, so the rules hold everywhere:
//
//   Fd                   a descriptor that closes itself; moved, never copied
//   MakeDirs             mkdir -p, mode 0755 unless told otherwise
//   WriteFileAtomically  a temporary beside the target, opened O_CREAT|O_EXCL|O_NOFOLLOW (a
//                        symlink planted at the temporary's name is removed, never followed),
//                        written, fsynced, closed with the close checked, renamed over the
//                        target, and the directory fsynced; `sync = false` skips both fsyncs
//                        for runtime files on tmpfs that a crash may lose
//   ReadFileBounded      opened O_NONBLOCK (a FIFO cannot block the reader) and, unless told
//                        otherwise, O_NOFOLLOW; anything but a regular file is refused; at
//                        most `max_bytes` are read, a larger file is an error
//
// Errors are Status values whose message names the path and the errno text.
//
// Thread-safety: free functions without shared state; an Fd is owned by one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace lastcall {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  // Closes now (errors ignored: for cleanup paths). Use Close() where the result matters.
  void reset(int fd = -1);
  // Closes and reports the error close(2) gave (a delayed write error on some file systems).
  Status Close(std::string_view what);

 private:
  int fd_ = -1;
};

// Creates `path` and its missing parents. An existing directory is fine; an existing
// non-directory is an error.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

struct AtomicWriteOptions {
  bool sync = true;  // fsync the file before the rename and the directory after it
  mode_t mode = 0644;
};

// Replaces `path` with `content` so that readers see the old file or the new one, never a
// mix, and (with sync) so that the same holds after a power cut. See the header comment for
// how the temporary (`path` + ".tmp") is opened.
Status WriteFileAtomically(const std::string& path, std::string_view content,
                           AtomicWriteOptions options = {});

struct ReadOptions {
  bool follow_symlinks = false;  // the config may be a symlink; state records may not
};

// The whole file, if it is a regular file of at most `max_bytes`. kNotFound when it does not
// exist; kDataLoss when it is not a regular file or is too large; kUnavailable otherwise.
Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes,
                                    ReadOptions options = {});

// The text of an errno value ("No such file or directory"). strerror_r, not strerror: the
// agent's threads (poll loop, hook runners) may ask at the same time.
std::string ErrnoText(int err);

}  // namespace lastcall
