// Provider: one cloud's instance metadata, turned into Notices.
//
// A provider knows the cloud's paths, tokens and payload formats; it knows nothing of hooks,
// state or systemd. Each Poll() returns the full set of notices visible right now (a snapshot),
// so the watcher can tell a new notice from a withdrawn one by comparing snapshots.
// Errors are per monitor: a 5xx on one path does not hide a notice found on another.
//
// Thread-safety: a Provider is used from the poller thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/config.h"
#include "agent/base/notice.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

struct Identity {
  std::string instance_id;
  std::string instance_type;
  std::string zone;
  std::string region;
  std::string provider;  // "aws", "alibaba": whose shapes ValidateIdentity checks
  friend bool operator==(const Identity&, const Identity&) = default;
};

struct PollResult {
  std::vector<Notice> notices;          // what is visible now (possibly partial, see errors)
  std::vector<Status> errors;           // one per monitor that failed; empty = clean poll
  std::optional<WallTime> server_date;  // from the Date header of the last good answer
  bool ok() const { return errors.empty(); }
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;  // "aws", "alibaba"
  // Reads identity paths. Called at start and again after a failure.
  virtual Result<Identity> FetchIdentity() = 0;
  virtual PollResult Poll() = 0;
  // Human-readable "what I watch", for STATUS= and `lastcalld status`.
  virtual std::string Describe() const = 0;
};

}  // namespace lastcall
