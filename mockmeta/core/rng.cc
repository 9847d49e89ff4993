#include "mockmeta/core/rng.h"

namespace lastcall::mock {

uint64_t Rng::Next() {
  // SplitMix64 (Steele, Lea, Flood 2014).
  state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  if (lo >= hi) return lo;
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  const uint64_t range = span + 1;
  // Reject the top partial block so every value is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % range);
  uint64_t x = Next();
  while (x >= limit) x = Next();
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + x % range);
}

double Rng::UniformDouble() {
  return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);  // 2^-53
}

Rng Rng::Fork(std::string_view tag) const {
  // FNV-1a over the tag, mixed with the origin seed; stable across platforms.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : tag) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  Rng mixer(origin_ ^ h);
  return Rng(mixer.Next());
}

}  // namespace lastcall::mock
