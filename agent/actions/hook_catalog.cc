#include "agent/actions/hook_catalog.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "agent/base/log.h"
#include "common/files.h"

namespace lastcall {
namespace {

bool RunPartsName(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

HookCatalog::HookCatalog(HookOptions options, std::vector<HookSpec> specs,
                         std::vector<uid_t> allowed_uids)
    : options_(std::move(options)),
      specs_(std::move(specs)),
      allowed_uids_(std::move(allowed_uids)) {
  if (allowed_uids_.empty()) {
    auto owners = AllowedOwners(options_);
    if (owners.ok()) {
      allowed_uids_ = *owners;
    } else {
      Log(LogPriority::kWarning, owners.status().message() + "; only root-owned hooks will run");
      allowed_uids_ = {0};
    }
  }
}

Result<std::vector<uid_t>> HookCatalog::AllowedOwners(const HookOptions& options) {
  std::vector<uid_t> uids = {0};
  const std::string& owner = options.allowed_owner;
  if (owner.empty()) return uids;
  unsigned long numeric = 0;
  auto [end, ec] = std::from_chars(owner.data(), owner.data() + owner.size(), numeric);
  if (ec == std::errc() && end == owner.data() + owner.size()) {
    uids.push_back(static_cast<uid_t>(numeric));
    return uids;
  }
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  int err = ::getpwnam_r(owner.c_str(), &pw, buf.data(), buf.size(), &found);
  if (err != 0 || found == nullptr) {
    return InvalidArgument("hooks.allowed_owner: no such user \"" + owner + "\"");
  }
  uids.push_back(found->pw_uid);
  return uids;
}

Status HookCatalog::CheckTrusted(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound("hook " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) return PermissionDenied("hook " + path + ": not a regular file");
  if (st.st_mode & S_IWOTH) return PermissionDenied("hook " + path + " is world-writable");
  if (st.st_mode & S_IWGRP) return PermissionDenied("hook " + path + " is group-writable");
  if (std::find(allowed_uids_.begin(), allowed_uids_.end(), st.st_uid) == allowed_uids_.end()) {
    return PermissionDenied("hook " + path + " is owned by uid " + std::to_string(st.st_uid) +
                            ", not by root or the allowed owner");
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return PermissionDenied("hook " + path + " is not executable");
  }
  std::string dir = DirName(path);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0)
    return NotFound("hook directory " + dir + ": " + ErrnoText(errno));
  if (dst.st_mode & (S_IWOTH | S_IWGRP)) {
    return PermissionDenied(
        "hook " + path + " is in directory " + dir +
        ((dst.st_mode & S_IWOTH) ? " which is world-writable" : " which is group-writable"));
  }
  return Status::Ok();
}

std::vector<Hook> HookCatalog::HooksFor(HookPhase phase, NoticeKind kind) const {
  std::vector<Hook> hooks;
  const std::string dir = options_.hooks_dir + "/" + std::string(HookPhaseName(phase));
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (!RunPartsName(name)) {
        Log(LogPriority::kDebug, "skipping " + dir + "/" + name + ": not a run-parts name",
            {{"PHASE", std::string(HookPhaseName(phase))}});
        continue;
      }
      names.push_back(std::move(name));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::string path = dir + "/" + name;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
      // Like run-parts, a file that is not executable is not a hook (a disabled one).
      if (S_ISREG(st.st_mode) && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) continue;
      if (Status s = CheckTrusted(path); !s.ok()) {
        Log(LogPriority::kWarning, "refusing to run " + s.message(),
            {{"HOOK", name}, {"PHASE", std::string(HookPhaseName(phase))}});
        continue;
      }
      hooks.push_back(Hook{name, phase, {path}, std::nullopt, {}, path});
    }
  } else if (errno != ENOENT) {
    Log(LogPriority::kWarning, "cannot read hook directory " + dir + ": " + ErrnoText(errno),
        {{"PHASE", std::string(HookPhaseName(phase))}});
  }
  const size_t from_dir = hooks.size();

  for (const HookSpec& spec : specs_) {
    if (spec.phase != phase) continue;
    if (!spec.kinds.empty() &&
        std::find(spec.kinds.begin(), spec.kinds.end(), kind) == spec.kinds.end()) {
      continue;
    }
    if (spec.command.empty() || spec.command[0].empty() || spec.command[0][0] != '/') {
      Log(LogPriority::kWarning,
          "refusing to run hook \"" + spec.name + "\" (" + spec.source +
              "): command must start with an absolute path",
          {{"HOOK", spec.name}, {"PHASE", std::string(HookPhaseName(phase))}});
      continue;
    }
    if (Status s = CheckTrusted(spec.command[0]); !s.ok()) {
      Log(LogPriority::kWarning,
          "refusing to run hook \"" + spec.name + "\" (" + spec.source + "): " + s.message(),
          {{"HOOK", spec.name}, {"PHASE", std::string(HookPhaseName(phase))}});
      continue;
    }
    hooks.push_back(Hook{spec.name, phase, spec.command, spec.timeout, spec.env, spec.source});
  }
  // Directory hooks are already sorted; stable merge keeps a directory hook first on a tie.
  std::stable_sort(hooks.begin() + static_cast<std::ptrdiff_t>(from_dir), hooks.end(),
                   [](const Hook& a, const Hook& b) { return a.name < b.name; });
  std::inplace_merge(hooks.begin(), hooks.begin() + static_cast<std::ptrdiff_t>(from_dir),
                     hooks.end(), [](const Hook& a, const Hook& b) { return a.name < b.name; });
  return hooks;
}

}  // namespace lastcall
