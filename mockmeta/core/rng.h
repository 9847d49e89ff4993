// Rng: the simulation's only source of randomness, seeded and identical on every platform.
//
// The std <random> distributions are implementation-defined and differ across libstdc++
// versions, so a scenario would not replay the same elsewhere. This is SplitMix64 (a 64-bit
// generator with a fixed, published recurrence) plus our own uniform int/double mapping.
// Derive independent streams with Fork(tag) so that, e.g., one pool's price walk does not shift
// when a flavor draws a number.
//
// Thread-safety: a plain value; not safe for concurrent use.
#pragma once

#include <cstdint>
#include <string_view>

namespace lastcall::mock {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed), origin_(seed) {}

  uint64_t Next();
  // Uniform in [lo, hi] (inclusive); lo <= hi. Unbiased (rejection sampling).
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 random bits.
  double UniformDouble();
  // A new generator whose stream depends on this one's seed and `tag`, not on how many numbers
  // were drawn from this one so far.
  Rng Fork(std::string_view tag) const;

 private:
  uint64_t state_;
  uint64_t origin_;  // the seed, for Fork
};

}  // namespace lastcall::mock
