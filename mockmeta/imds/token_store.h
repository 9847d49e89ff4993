// TokenStore: IMDS session tokens (AWS IMDSv2, Alibaba security-hardening mode).
//
// A token is issued for one instance with a TTL and is valid only for that instance and only
// until the injected clock (mockmeta's virtual clock) passes its expiry. ExpireAll() voids every
// token of an instance at once (the "token expiry" fault, or a control-API action), so tests
// can drive an agent through its 401-and-refresh path. The store is bounded: when full, expired
// tokens are dropped first, then the ones closest to expiry.
//
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace lastcall::mock {

class TokenStore {
 public:
  static constexpr int kMinTtlSeconds = 1;
  static constexpr int kMaxTtlSeconds = 21600;

  enum class Check { kValid, kUnknown, kExpired, kOtherInstance };

  // `seed` makes the issued tokens reproducible in tests.
  explicit TokenStore(const Clock& clock, uint64_t seed = std::random_device{}(),
                      size_t max_tokens = 65536);

  // A new token for `instance_id`, valid for `ttl` from now. The TTL is not checked here:
  // the routers validate the header (1..21600 s) and answer 400 before calling this.
  std::string Issue(std::string_view instance_id, std::chrono::seconds ttl);

  Check Validate(std::string_view instance_id, std::string_view token) const;

  // Invalidates every token issued for `instance_id`; returns how many there were.
  size_t ExpireAll(std::string_view instance_id);

  size_t size() const;
  // The clock tokens expire by (mockmeta's virtual clock): the IMDS router's notion of now.
  const Clock& clock() const { return clock_; }

 private:
  struct Entry {
    std::string instance_id;
    WallTime expires;
  };
  void MakeRoomLocked(WallTime now);

  const Clock& clock_;
  const size_t max_tokens_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, Entry, std::less<>> tokens_;
};

}  // namespace lastcall::mock
