// Instance identity: what is read is validated, what is believed is persisted, and a different
// identity is believed only after it was read the same way several times.
//
// Why: a malformed or truncated identity answer (`i-81nswrrhw` for `i-81nswrrhw66d56uik9ep`)
// must never become "another instance". ValidateIdentity refuses any value that does not have
// the cloud's documented shape. IdentityTracker decides what to believe: the first valid read
// when nothing is persisted; the persisted identity otherwise, until a different one has been
// read kConfirmReads times in a row (a read equal to the believed identity resets the count).
// A confirmed switch means another instance (an image baked with the state directory, a volume
// moved): the caller keeps the old instance's records apart (NoticeHandlerImpl archives them).
//
// On disk (StateStore::LoadOwner / SaveOwner) as IdentityToJson / IdentityFromJson.
//
// Thread-safety: ValidateIdentity and the file functions are pure or stateless; an
// IdentityTracker is a plain value guarded by its owner.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/base/provider.h"
#include "common/enum_names.h"
#include "common/status.h"

namespace lastcall {

// AWS: instance id "i-" + 8 or 17 lowercase hex digits. Alibaba: "i-" + 20 lowercase
// alphanumerics. Both: zone and region 2-64 characters of [a-z0-9-], starting with a letter
// and not ending with '-'; instance type 1-64 characters of [A-Za-z0-9.-_]. A kDataLoss naming
// the field and the (quoted, bounded) value otherwise. Unknown providers ("simulate"): only the
// generic shapes.
Status ValidateIdentity(std::string_view provider, const Identity& identity);

class IdentityTracker {
 public:
  static constexpr int kConfirmReads = 3;

  enum class Outcome {
    kFirst,     // nothing was believed: this read is now
    kSame,      // the believed identity, read again
    kPending,   // a different identity, not yet read often enough to be believed
    kSwitched,  // a different identity read kConfirmReads times: now believed
  };

  explicit IdentityTracker(std::optional<Identity> persisted = std::nullopt)
      : believed_(std::move(persisted)) {}

  // `read` must have passed ValidateIdentity.
  Outcome Observe(const Identity& read);

  const std::optional<Identity>& believed() const { return believed_; }
  // A different identity has been read but not confirmed: keep reading it.
  bool pending() const { return candidate_.has_value(); }
  int candidate_reads() const { return candidate_reads_; }

 private:
  std::optional<Identity> believed_;
  std::optional<Identity> candidate_;
  int candidate_reads_ = 0;
};

inline constexpr EnumNames<IdentityTracker::Outcome, 4> kIdentityOutcomeNames = {{
    {IdentityTracker::Outcome::kFirst, "first"},
    {IdentityTracker::Outcome::kSame, "same"},
    {IdentityTracker::Outcome::kPending, "pending"},
    {IdentityTracker::Outcome::kSwitched, "switched"},
}};
std::string_view IdentityOutcomeName(IdentityTracker::Outcome outcome);

// {"version":1,"provider":...,"instance_id":...,...}; FromJson validates like ValidateIdentity.
std::string IdentityToJson(const Identity& identity);
Result<Identity> IdentityFromJson(std::string_view text);

}  // namespace lastcall
