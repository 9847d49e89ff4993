#include "agent/actions/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "agent/base/identity.h"
#include "agent/base/log.h"
#include "common/escape.h"
#include "common/files.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kOwnerFile = "owner.identity";
// Records are a few KB; anything much larger is not ours.
constexpr size_t kMaxRecordBytes = 1 << 20;

}  // namespace

StateStore::StateStore(std::string state_dir, const Clock& clock)
    : state_dir_(std::move(state_dir)), dir_(state_dir_ + "/notices"), clock_(clock) {}

Result<std::optional<Identity>> StateStore::LoadOwner() const {
  const std::string path = dir_ + "/" + std::string(kOwnerFile);
  auto text = ReadFileBounded(path, kMaxRecordBytes);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) return std::optional<Identity>();
  if (!text.ok()) return text.status();
  Result<Identity> id = IdentityFromJson(*text);
  if (!id.ok()) return DataLoss(path + ": " + id.status().message());
  return std::optional<Identity>(*id);
}

Status StateStore::SaveOwner(const Identity& owner) {
  std::lock_guard lock(mu_);
  return WriteFileAtomically(dir_ + "/" + std::string(kOwnerFile), IdentityToJson(owner));
}

Status StateStore::ArchiveAs(const std::string& instance_id) {
  std::lock_guard lock(mu_);
  const std::string parent = state_dir_ + "/instances";
  LASTCALL_RETURN_IF_ERROR(MakeDirs(parent));
  std::string dest = parent + "/" + instance_id;
  // An instance id that was validated is a safe name; anything else gets a neutral one.
  if (instance_id.empty() || instance_id.find('/') != std::string::npos || instance_id[0] == '.') {
    dest = parent + "/unknown";
  }
  if (::access(dest.c_str(), F_OK) == 0) {
    dest += "." + std::to_string(ToUnixSeconds(clock_.Now()));
  }
  if (::rename(dir_.c_str(), dest.c_str()) != 0) {
    return Unavailable("cannot move " + dir_ + " to " + dest + ": " + ErrnoText(errno));
  }
  records_.clear();
  return MakeDirs(dir_);
}

void StateStore::MigrateOldIds(std::map<std::string, NoticeRecord>& loaded) {
  // file id -> key; key -> file id of the record kept for it.
  std::map<std::string, std::string> winner;
  for (auto& [id, r] : loaded) {
    Notice& n = r.notice;
    if (n.kind == NoticeKind::kMaintenance && n.event_id.empty()) {
      // Old records have no event_id field: it is in the entry's raw JSON.
      nlohmann::json raw = nlohmann::json::parse(n.raw, nullptr, false);
      if (raw.is_object() && raw.contains("EventId") && raw["EventId"].is_string()) {
        n.event_id = raw["EventId"].get<std::string>();
      }
    }
    const std::string key = MakeNoticeId(n.provider, n.kind, n.event_id);
    auto [it, fresh] = winner.emplace(key, id);
    if (fresh) continue;
    const NoticeRecord& other = loaded[it->second];
    // A record already under the current key wins; else the most recently first seen.
    if (other.notice.id == key) continue;
    if (id == key || r.first_seen > other.first_seen) it->second = id;
  }
  std::map<std::string, NoticeRecord> out;
  for (auto& [key, id] : winner) {
    NoticeRecord r = loaded[id];
    if (id != key) {
      r.notice.id = key;
      Status s = WriteFileAtomically(PathFor(key), NoticeRecordToJson(r));
      if (!s.ok()) {
        Log(LogPriority::kErr, "cannot re-key old state file " + PathFor(id) + ": " + s.message());
      } else {
        ::unlink(PathFor(id).c_str());
        Log(LogPriority::kNotice, "state file of the old id scheme re-keyed: " + id + " -> " + key,
            {{"NOTICE_ID", key}});
      }
    }
    out[key] = std::move(r);
  }
  for (const auto& [id, r] : loaded) {
    const std::string key = MakeNoticeId(r.notice.provider, r.notice.kind, r.notice.event_id);
    if (winner[key] == id) continue;
    const std::string aside = PathFor(id) + ".superseded";
    ::rename(PathFor(id).c_str(), aside.c_str());
    Log(LogPriority::kNotice,
        "state file of the old id scheme superseded by a later record of the same notice: " + aside,
        {{"NOTICE_ID", key}});
  }
  loaded = std::move(out);
}

std::string StateStore::PathFor(const std::string& id) const {
  return dir_ + "/" + id + std::string(kSuffix);
}

Status StateStore::Load() {
  Status made = MakeDirs(dir_);
  if (!made.ok()) return made.WithContext("state directory");
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr)
    return Unavailable("cannot read state directory " + dir_ + ": " + ErrnoText(errno));
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
                              : "could not move it aside: " + ErrnoText(errno);
      Log(LogPriority::kErr,
          "state file " + path + " is unreadable (" + record.status().message() + "); " + moved,
          {{"NOTICE_ID", id}});
      continue;
    }
    loaded[id] = std::move(record).value();
  }
  std::lock_guard lock(mu_);
  MigrateOldIds(loaded);
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
  Set(record);
  return Write(record.notice.id, durability);
}

void StateStore::Set(const NoticeRecord& record) {
  std::lock_guard lock(mu_);
  records_[record.notice.id] = record;
}

Status StateStore::Write(const std::string& id, Durability durability) {
  std::shared_ptr<std::mutex> write_lock;
  {
    std::lock_guard lock(mu_);
    std::shared_ptr<std::mutex>& slot = write_locks_[id];
    if (!slot) slot = std::make_shared<std::mutex>();
    write_lock = slot;
  }
  // The version is read after the id's write lock is taken: the last writer writes the newest.
  std::lock_guard write(*write_lock);
  std::string json;
  {
    std::lock_guard lock(mu_);
    auto it = records_.find(id);
    if (it == records_.end()) return Status::Ok();
    json = NoticeRecordToJson(it->second);
  }
  return WriteFileAtomically(PathFor(id), json, {.sync = durability == Durability::kDurable});
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
        Log(LogPriority::kWarning, "cannot remove old state file " + path + ": " + ErrnoText(errno),
            {{"NOTICE_ID", it->first}});
        ++it;
        continue;
      }
      write_locks_.erase(it->first);
      it = records_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace lastcall
