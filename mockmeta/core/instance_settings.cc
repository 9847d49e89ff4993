#include "mockmeta/core/instance_settings.h"

#include <charconv>

namespace lastcall::mock {
namespace {

bool IsIpv4(std::string_view s) {
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    size_t digits = static_cast<size_t>(end - s.data());
    if (ec != std::errc() || digits == 0 || digits > 3 || v > 255) return false;
    if (digits > 1 && s.front() == '0') return false;  // "010" is ambiguous (octal to some)
    s.remove_prefix(digits);
  }
  return s.empty();
}

bool IsRoleName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("+=,.@_-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Printable ASCII and no line breaks: the value becomes one line of a listing or a leaf.
bool IsPrintableLine(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::optional<InstanceSettingsProblem> CheckInstanceSettings(const InstanceSettings& s) {
  if (!s.instance_profile.empty() && !IsRoleName(s.instance_profile)) {
    return InstanceSettingsProblem{"instance_profile",
                                   "must be 1..64 characters of A-Z a-z 0-9 +=,.@_-"};
  }
  for (const auto& [key, value] : s.tags) {
    if (key.empty() || key.size() > 128 || key.find('/') != std::string::npos ||
        !IsPrintableLine(key)) {
      return InstanceSettingsProblem{
          "tags",
          "tag key \"" + key.substr(0, 40) + "\" must be 1..128 printable characters without '/'"};
    }
    if (value.size() > 256 || !IsPrintableLine(value)) {
      return InstanceSettingsProblem{
          "tags", "tag \"" + key + "\": the value must be at most 256 printable characters"};
    }
  }
  if (!s.public_ip.empty() && !IsIpv4(s.public_ip)) {
    return InstanceSettingsProblem{
        "public_ip", "\"" + s.public_ip.substr(0, 40) + "\" is not a dotted IPv4 address"};
  }
  if (!s.public_key.empty()) {
    if (!(s.public_key.starts_with("ssh-") || s.public_key.starts_with("ecdsa-")) ||
        !IsPrintableLine(s.public_key) || s.public_key.size() > 16384) {
      return InstanceSettingsProblem{
          "public_key", "must be one OpenSSH public key line (\"ssh-ed25519 AAAA...\")"};
    }
    if (s.key_name.empty()) {
      return InstanceSettingsProblem{"key_name", "is required with public_key"};
    }
  }
  if (!s.key_name.empty() && (!IsPrintableLine(s.key_name) || s.key_name.size() > 255)) {
    return InstanceSettingsProblem{"key_name", "must be at most 255 printable characters"};
  }
  if (s.user_data && s.user_data->size() > 16 * 1024) {
    return InstanceSettingsProblem{"user_data", "is larger than 16 KiB (EC2's limit)"};
  }
  for (const std::string& g : s.security_groups) {
    if (g.empty() || g.size() > 255 || !IsPrintableLine(g)) {
      return InstanceSettingsProblem{"security_groups",
                                     "group names must be 1..255 printable characters"};
    }
  }
  if (!s.subnet_id.empty() && (!IsPrintableLine(s.subnet_id) || s.subnet_id.size() > 64 ||
                               s.subnet_id.find('/') != std::string::npos)) {
    return InstanceSettingsProblem{"subnet", "must be an id like subnet-0abc (no '/')"};
  }
  return std::nullopt;
}

}  // namespace lastcall::mock
