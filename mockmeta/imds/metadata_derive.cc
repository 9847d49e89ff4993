#include "mockmeta/imds/metadata_derive.h"

#include <charconv>

namespace lastcall::mock {
namespace {

uint64_t Fnv1a(std::string_view a, std::string_view b) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(a);
  mix(std::string_view("\0", 1));  // ("ab","c") and ("a","bc") differ
  mix(b);
  return h;
}

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string DeriveId(std::string_view seed, std::string_view salt, std::string_view prefix, int len,
                     std::string_view alphabet) {
  uint64_t state = Fnv1a(seed, salt);
  std::string out(prefix);
  out.reserve(prefix.size() + static_cast<size_t>(len));
  for (int i = 0; i < len; ++i) out += alphabet[SplitMix(state) % alphabet.size()];
  return out;
}

RoleCredentials DeriveCredentials(std::string_view instance_id, std::string_view role,
                                  std::string_view key_prefix, WallTime launch, WallTime now) {
  const int64_t epoch = now < launch ? 0 : (now - launch) / kCredentialsRotation;
  const std::string seed =
      std::string(instance_id) + "/" + std::string(role) + "/" + std::to_string(epoch);
  RoleCredentials c;
  c.access_key_id = DeriveId(seed, "access-key", key_prefix, 16, kUpperAlnum);
  c.secret_access_key = DeriveId(seed, "secret", "", 40, kBase64Chars);
  c.token = DeriveId(seed, "token", "IQoJb3JpZ2luX2VjE", 300, kBase64Chars);
  c.last_updated = launch + epoch * kCredentialsRotation;
  c.expiration = c.last_updated + kCredentialsLifetime;
  return c;
}

Ipv4Octets ParseIpv4Octets(std::string_view ip) {
  unsigned v[4] = {0, 0, 0, 0};
  const char* p = ip.data();
  const char* end = ip.data() + ip.size();
  for (int i = 0; i < 4; ++i) {
    auto [next, ec] = std::from_chars(p, end, v[i]);
    if (ec != std::errc() || v[i] > 255) return {};
    p = next;
    if (i < 3) {
      if (p == end || *p != '.') return {};
      ++p;
    }
  }
  if (p != end) return {};
  return {v[0], v[1], v[2], v[3]};
}

}  // namespace lastcall::mock
