// EndpointUrl and ListenAddress: the strict parsers for the two network addresses an operator
// configures (a metadata endpoint, the metrics listener).
//
// `--check-config` must accept exactly what the daemon can use, so both are parsed once, here,
// by the config loader, and refused with a message saying which part is wrong:
//
//   endpoint  http[s]://HOST[:PORT][/PATH]   HOST a DNS name, a dotted IPv4 address or a
//             bracketed IPv6 address; PORT 1-65535; no user info ("user@"), no query or
//             fragment; only printable ASCII (no spaces, no control characters) anywhere
//   listen    HOST:PORT                      HOST 127.0.0.0/8 as a dotted quad, [::1] or
//             localhost (the listener is unauthenticated); PORT 1-65535
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lastcall {

struct EndpointUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  bool ipv6 = false;
  uint16_t port = 0;  // the scheme's default when the URL names none
  std::string path;   // "" or "/..."
};

Result<EndpointUrl> ParseEndpointUrl(std::string_view url);

struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1" or "localhost"
  uint16_t port = 0;
};

Result<ListenAddress> ParseLoopbackListenAddress(std::string_view listen);

}  // namespace lastcall
