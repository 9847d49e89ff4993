#include "agent/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/log.h"
#include "common/escape.h"
#include "common/files.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr std::string_view kSuffix = ".json";
// Records are a few KB; anything much larger is not ours.
constexpr size_t kMaxRecordBytes = 1 << 20;

std::string Errno() { return std::strerror(errno); }

}  // namespace

StateStore::StateStore(std::string state_dir, const Clock& clock)
    : dir_(std::move(state_dir) + "/notices"), clock_(clock) {}

std::string StateStore::PathFor(const std::string& id) const {
  return dir_ + "/" + id + std::string(kSuffix);
}

Status StateStore::Load() {
  Status made = MakeDirs(dir_);
  if (!made.ok()) return made.WithContext("state directory");
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Unavailable("cannot read state directory " + dir_ + ": " + Errno());
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix) && name[0] != '.') {
      names.push_back(name);
    }
  }
  ::closedir(d);
  std::map<std::string, NoticeRecord> loaded;
  for (const std::string& name : names) {
    const std::string path = dir_ + "/" + name;
    const std::string id = name.substr(0, name.size() - kSuffix.size());
    // Non-blocking, no symlinks, regular files only: a FIFO named <id>.json blocked start-up.
    auto text = ReadFileBounded(path, kMaxRecordBytes);
    Result<NoticeRecord> record =
        text.ok() ? NoticeRecordFromJson(*text) : Result<NoticeRecord>(text.status());
    if (record.ok() && record->notice.id != id) {
      record = DataLoss("holds notice " + Quote(record->notice.id) + ", not " + Quote(id));
    }
    if (!record.ok()) {
      const std::string aside = path + ".corrupt-" + std::to_string(ToUnixSeconds(clock_.Now()));
      std::string moved = ::rename(path.c_str(), aside.c_str()) == 0
                              ? "moved aside to " + aside
                              : "could not move it aside: " + Errno();
      Log(LogPriority::kErr,
          "state file " + path + " is unreadable (" + record.status().message() + "); " + moved,
          {{"NOTICE_ID", id}});
      continue;
    }
    loaded[id] = std::move(record).value();
  }
  std::lock_guard lock(mu_);
  records_ = std::move(loaded);
  return Status::Ok();
}

std::optional<NoticeRecord> StateStore::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::vector<NoticeRecord> StateStore::All() const {
  std::lock_guard lock(mu_);
  std::vector<NoticeRecord> out;
  for (const auto& [id, r] : records_) out.push_back(r);
  return out;
}

Status StateStore::Put(const NoticeRecord& record, Durability durability) {
  std::lock_guard lock(mu_);
  records_[record.notice.id] = record;
  return WriteFileAtomically(PathFor(record.notice.id), NoticeRecordToJson(record),
                             {.sync = durability == Durability::kDurable});
}

size_t StateStore::Prune(WallTime now, Duration keep) {
  std::lock_guard lock(mu_);
  size_t removed = 0;
  for (auto it = records_.begin(); it != records_.end();) {
    const NoticeRecord& r = it->second;
    WallTime reference = r.notice.deadline.value_or(r.first_seen);
    if (now - reference > keep) {
      const std::string path = PathFor(it->first);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        Log(LogPriority::kWarning, "cannot remove old state file " + path + ": " + Errno(),
            {{"NOTICE_ID", it->first}});
        ++it;
        continue;
      }
      it = records_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace lastcall
