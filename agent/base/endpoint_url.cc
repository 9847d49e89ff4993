#include "agent/base/endpoint_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/escape.h"

namespace lastcall {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// "1".."65535", digits only.
Result<uint16_t> ParsePort(std::string_view s) {
  const Status bad = InvalidArgument("the port must be 1-65535");
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), IsDigit)) return bad;
  unsigned long v = std::stoul(std::string(s));
  if (v < 1 || v > 65535) return bad;
  return static_cast<uint16_t>(v);
}

// RFC 1123 host name: labels of letters, digits and inner hyphens, 1-63 bytes, 253 in all.
bool IsHostName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    std::string_view label = h.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool IsIpv4(const std::string& h) {
  in_addr a{};
  return ::inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& h) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

// Path characters of RFC 3986 (pchar and '/'); '%' must start a %XX escape.
bool IsPath(std::string_view p) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/";
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (IsAlnum(c) || kAllowed.find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < p.size() && std::isxdigit(static_cast<unsigned char>(p[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(p[i + 2]))) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

struct HostPort {
  std::string host;
  bool ipv6 = false;                     // it was in brackets
  std::optional<std::string_view> port;  // as written, when there is one
};

// Splits "HOST[:PORT]" or "[V6][:PORT]"; an error when the brackets do not close.
Result<HostPort> SplitHostPort(std::string_view authority) {
  const Status bad =
      InvalidArgument("an IPv6 address must be in brackets, like [fd00:ec2::254]:80");
  HostPort out;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad;
    out.host = std::string(authority.substr(1, close - 1));
    out.ipv6 = true;
    std::string_view rest = authority.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return bad;
    out.port = rest.substr(1);
    return out;
  }
  size_t colon = authority.find(':');
  out.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) out.port = authority.substr(colon + 1);
  return out;
}

}  // namespace

Result<EndpointUrl> ParseEndpointUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("not a usable endpoint URL (" + std::string(why) + "): " + Quote(url));
  };
  for (char c : url) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return bad("spaces, control characters and non-ASCII bytes are not allowed");
  }
  EndpointUrl out;
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    out.scheme = "http";
    out.port = 80;
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.scheme = "https";
    out.port = 443;
    rest = url.substr(8);
  } else {
    return bad("the scheme must be http:// or https://");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not allowed");
  if (url.find_first_of("?#") != std::string_view::npos) {
    return bad("a query or fragment is not allowed; the endpoint is a prefix");
  }
  Result<HostPort> hp = SplitHostPort(authority);
  if (!hp.ok()) return bad(hp.status().message());
  out.host = hp->host;
  out.ipv6 = hp->ipv6;
  if (out.host.empty()) return bad("no host");
  if (out.ipv6 ? !IsIpv6(out.host) : !IsHostName(out.host)) {
    return bad(out.ipv6 ? "not an IPv6 address in the brackets" : "not a valid host name");
  }
  if (hp->port) {
    Result<uint16_t> port = ParsePort(*hp->port);
    if (!port.ok()) return bad(port.status().message());
    out.port = *port;
  }
  if (!IsPath(path)) return bad("the path has characters that must be %-escaped");
  out.path = std::string(path);
  return out;
}

Result<ListenAddress> ParseLoopbackListenAddress(std::string_view listen) {
  size_t colon = listen.rfind(':');
  std::string host(listen.substr(0, colon == std::string_view::npos ? 0 : colon));
  ListenAddress out;
  Result<uint16_t> port = colon == std::string_view::npos
                              ? Result<uint16_t>(InvalidArgument("no port"))
                              : ParsePort(listen.substr(colon + 1));
  if (port.ok()) out.port = *port;
  if (host.empty() || !port.ok()) {
    return InvalidArgument("must be HOST:PORT like \"127.0.0.1:9877\" (port 1-65535), got " +
                           Quote(listen));
  }
  bool loopback = false;
  if (host == "localhost") {
    loopback = true;
  } else if (host == "[::1]") {
    host = "::1";
    loopback = true;
  } else if (IsIpv4(host)) {
    loopback = host.rfind("127.", 0) == 0;
  }
  if (!loopback) {
    return InvalidArgument(
        "must be a loopback address (127.0.0.0/8 as a dotted quad, [::1] or localhost), got " +
        Quote(listen));
  }
  out.host = host;
  return out;
}

}  // namespace lastcall
