// HookCatalog: which hooks a phase runs, from <hooks_dir>/<phase>/ and from [[hook]] tables.
//
// Directory hooks follow run-parts: names matching ^[A-Za-z0-9_-]+$ (so backups like "x~",
// "x.dpkg-old" and "x.bak" are skipped), executable regular files (symlinks followed). Both
// sources are merged and ordered by name (byte order, like run-parts in the C locale); on a
// tie the directory hook comes first. [[hook]] specs are filtered by their `kinds`.
//
// Hooks run as the daemon's user, usually root, so a file someone else could have written is
// refused with a warning that names the file and the reason: world- or group-writable, owned
// by neither root nor the allowed owner, or in a world- or group-writable directory. This
// applies to the directory hooks and to the program ([0]) of each [[hook]] command.
//
// The directory is read on every call, so hooks added while the daemon runs are picked up.
// Thread-safety: const methods are safe from any thread; the catalog is immutable.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/config.h"
#include "agent/base/notice.h"
#include "common/status.h"

namespace lastcall {

// One hook ready to run.
struct Hook {
  std::string name;  // file name or [[hook]] name
  HookPhase phase = HookPhase::kCheckpoint;
  std::vector<std::string> argv;    // argv[0] is an absolute path
  std::optional<Duration> timeout;  // own timeout, if it has one
  std::map<std::string, std::string> env;
  std::string source;  // path or "lastcalld.toml:42"
};

class HookCatalog {
 public:
  // `allowed_uids` may own hooks; empty means AllowedOwners(options).
  HookCatalog(HookOptions options, std::vector<HookSpec> specs,
              std::vector<uid_t> allowed_uids = {});

  std::vector<Hook> HooksFor(HookPhase phase, NoticeKind kind) const;

  // root plus HookOptions::allowed_owner (a user name or a numeric uid). An unknown user is an
  // error naming it; the caller logs it and continues with root only.
  static Result<std::vector<uid_t>> AllowedOwners(const HookOptions& options);

  // Why `path` must not run, or ok. Exposed for tests and `--check-config`.
  Status CheckTrusted(const std::string& path) const;

 private:
  HookOptions options_;
  std::vector<HookSpec> specs_;
  std::vector<uid_t> allowed_uids_;
};

}  // namespace lastcall
