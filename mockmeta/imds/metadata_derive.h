// Values the clouds derive for an instance that mockmeta does not simulate (ENI, reservation and
// security group ids, CIDR blocks, instance credentials): derived from the instance itself, so
// that the same instance (same scenario and seed) always shows the same values, and no request
// draws anything at random.
//
// Credentials rotate on the virtual clock: a new set every kCredentialsRotation after launch,
// each valid kCredentialsLifetime from its issue, so a client that refreshes before Expiration
// always finds a set that is newer and lasts longer.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace lastcall::mock {

inline constexpr std::string_view kHexLower = "0123456789abcdef";
inline constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
inline constexpr std::string_view kLowerAlnum = "0123456789abcdefghijklmnopqrstuvwxyz";
inline constexpr std::string_view kBase64Chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// `prefix` + `len` characters of `alphabet`, a function of (seed, salt) only.
std::string DeriveId(std::string_view seed, std::string_view salt, std::string_view prefix, int len,
                     std::string_view alphabet = kHexLower);

inline constexpr Duration kCredentialsRotation = std::chrono::hours(1);
inline constexpr Duration kCredentialsLifetime = std::chrono::hours(6);

struct RoleCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string token;
  WallTime last_updated;  // when this set was issued
  WallTime expiration;
};

// The set in force at `now` for `role` of an instance launched at `launch`. `key_prefix` is the
// cloud's temporary-key prefix ("ASIA" on AWS, "STS." on Alibaba).
RoleCredentials DeriveCredentials(std::string_view instance_id, std::string_view role,
                                  std::string_view key_prefix, WallTime launch, WallTime now);

// "10.1.2.3" -> {10, 1, 2, 3}; zeros for anything else (the core always writes dotted quads).
struct Ipv4Octets {
  unsigned a = 0, b = 0, c = 0, d = 0;
};
Ipv4Octets ParseIpv4Octets(std::string_view ip);

}  // namespace lastcall::mock
