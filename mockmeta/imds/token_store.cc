#include "mockmeta/imds/token_store.h"

#include <algorithm>

namespace lastcall::mock {

TokenStore::TokenStore(const Clock& clock, uint64_t seed, size_t max_tokens)
    : clock_(clock), max_tokens_(std::max<size_t>(max_tokens, 1)), rng_(seed) {}

std::string TokenStore::Issue(std::string_view instance_id, std::chrono::seconds ttl) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::lock_guard lock(mu_);
  WallTime now = clock_.Now();
  MakeRoomLocked(now);
  std::string token;
  do {
    // Shaped like AWS's (a version-ish prefix, then base64url); clients treat it as opaque.
    token = "AQAEA";
    for (int i = 0; i < 51; ++i) token += kAlphabet[rng_() % kAlphabet.size()];
  } while (tokens_.count(token) != 0);
  tokens_.emplace(token, Entry{std::string(instance_id), now + ttl});
  return token;
}

TokenStore::Check TokenStore::Validate(std::string_view instance_id, std::string_view token) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return Check::kUnknown;
  if (it->second.instance_id != instance_id) return Check::kOtherInstance;
  if (clock_.Now() >= it->second.expires) return Check::kExpired;
  return Check::kValid;
}

size_t TokenStore::ExpireAll(std::string_view instance_id) {
  std::lock_guard lock(mu_);
  return std::erase_if(tokens_,
                       [&](const auto& kv) { return kv.second.instance_id == instance_id; });
}

size_t TokenStore::size() const {
  std::lock_guard lock(mu_);
  return tokens_.size();
}

void TokenStore::MakeRoomLocked(WallTime now) {
  if (tokens_.size() < max_tokens_) return;
  std::erase_if(tokens_, [&](const auto& kv) { return now >= kv.second.expires; });
  while (tokens_.size() >= max_tokens_) {
    auto soonest = std::min_element(
        tokens_.begin(), tokens_.end(),
        [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    tokens_.erase(soonest);
  }
}

}  // namespace lastcall::mock
