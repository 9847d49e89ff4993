// StateStore: the notice records on disk, one JSON file per notice id.
//
// Layout: <state_dir>/notices/<id>.json. Every Put goes through WriteFileAtomically
// (common/files.h: a temporary opened O_EXCL|O_NOFOLLOW, renamed over the old file), so after a
// kill -9 a record is either the old or the new version, never a torn one. A durable Put also
// fsyncs the file and the directory, so the same holds after a power cut or a kernel crash; a
// cached Put skips both (a record that can be rebuilt, like a notice's first sighting: if it is
// lost, the notice is simply seen again). Load() reads all records at start through ReadFileBounded
// (non-blocking, no symlinks, regular files of at most 1 MiB: a FIFO or a link planted in the
// directory is refused, not waited on); a file that cannot be parsed is logged and renamed to
// <id>.json.corrupt-<unix time> (kept for inspection, never fatal). Prune() removes records some
// time after their deadline.
//
// Ownership: the records of one directory belong to one instance, the owner, kept in
// notices/owner.identity (LoadOwner / SaveOwner). When another instance is confirmed
// (IdentityTracker), ArchiveAs moves the directory to <state_dir>/instances/<old owner>/ and
// starts an empty one: two instances' records are never mixed.
//
// Records of the old id scheme (ids with the notice's time in them, e.g.
// aws-interruption-i-0abc-20170918T082200Z) are re-keyed at Load to the current key
// (MakeNoticeId: provider, kind, event id), with their phases; when several old records map to
// one key, the most recently first seen is kept and the others are moved aside as
// <file>.superseded. Nothing reruns for a notice whose phases an older agent already ran.
//
// Set + Write split Put for callers that hold a lock of their own: Set updates the in-memory
// record at once (cheap, fine under that lock), Write puts the current version on disk later,
// outside it. Writes of one id are serialised and each writes the newest version, so a late
// Write never replaces a newer file with an older record.
//
// Thread-safety: all methods are safe from any thread (one mutex for the records, held only
// for memory; one more per id, held while that id's file is written).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/actions/notice_record.h"
#include "agent/base/provider.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

class StateStore {
 public:
  StateStore(std::string state_dir, const Clock& clock);

  // Creates the directory if needed and reads every record. Fails only when the directory
  // cannot be created or read; bad files are moved aside.
  Status Load();

  std::optional<NoticeRecord> Get(const std::string& id) const;
  std::vector<NoticeRecord> All() const;

  enum class Durability { kDurable, kCached };

  // Persists atomically (see above). On error the in-memory copy is updated anyway, so the
  // daemon keeps its exactly-once promise for this run; the error is returned for logging.
  Status Put(const NoticeRecord& record, Durability durability = Durability::kDurable);
  // Put in two steps (see above): Set never touches the disk; Write persists the newest
  // in-memory version of `id` (nothing when the record is gone: pruned or archived).
  void Set(const NoticeRecord& record);
  Status Write(const std::string& id, Durability durability = Durability::kDurable);

  // Removes records whose deadline (or, for advisories, first sighting) is more than `keep`
  // before `now`. Returns how many were removed.
  size_t Prune(WallTime now, Duration keep = std::chrono::hours(24 * 7));

  // The instance these records belong to (see above). nullopt when none is recorded yet; an
  // error when the owner file is unreadable.
  Result<std::optional<Identity>> LoadOwner() const;
  Status SaveOwner(const Identity& owner);
  // Moves every record of the current owner to <state_dir>/instances/<instance_id>/ and
  // starts an empty directory. The in-memory records are dropped.
  Status ArchiveAs(const std::string& instance_id);

  std::string PathFor(const std::string& id) const;
  const std::string& dir() const { return dir_; }

 private:
  // Re-keys records of the old id scheme (see above). Called by Load with the loaded map.
  void MigrateOldIds(std::map<std::string, NoticeRecord>& loaded);

  const std::string state_dir_;
  const std::string dir_;  // <state_dir>/notices
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, NoticeRecord> records_;
  // One lock per id, held while that id's file is written (see Write); under mu_.
  std::map<std::string, std::shared_ptr<std::mutex>> write_locks_;
};

}  // namespace lastcall
