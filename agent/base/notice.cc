#include "agent/base/notice.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/time_format.h"

namespace lastcall {
namespace {

bool IsVerbatim(std::string_view part) {
  if (part.empty() || part.size() > kMaxVerbatimEventId) return false;
  if (!std::isalnum(static_cast<unsigned char>(part[0]))) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// FNV-1a, 128 bits: no dependency, and collisions of foreign ids need 2^64 tries by chance.
std::string Fnv1a128Hex(std::string_view data) {
  __extension__ typedef unsigned __int128 u128;
  const u128 prime = (u128{1} << 88) | 0x13b;
  u128 h = (u128{0x6c62272e07bb0142ULL} << 64) | 0x62b821756295c58dULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= prime;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 31; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

}  // namespace

std::string_view NoticeKindName(NoticeKind kind) { return NameOf(kNoticeKindNames, kind); }

std::optional<NoticeKind> ParseNoticeKind(std::string_view name) {
  return ValueOf(kNoticeKindNames, name);
}

std::string_view NoticeStateName(NoticeState state) { return NameOf(kNoticeStateNames, state); }

std::optional<NoticeState> ParseNoticeState(std::string_view name) {
  return ValueOf(kNoticeStateNames, name);
}

std::string MakeNoticeId(std::string_view provider, NoticeKind kind, std::string_view event_id) {
  std::string id(provider);
  id += '-';
  id += NoticeKindName(kind);
  if (event_id.empty()) return id;
  id += '-';
  if (IsVerbatim(event_id)) {
    id += event_id;
  } else {
    // '~' never appears in a verbatim part, so a hashed key cannot equal a verbatim one.
    id += '~';
    id += Fnv1a128Hex(event_id);
  }
  return id;
}

bool SameTerms(const Notice& a, const Notice& b) {
  return a.state == b.state && a.action == b.action && a.deadline == b.deadline &&
         a.window_end == b.window_end;
}

std::string NoticeToJson(const Notice& n) {
  nlohmann::json j = {
      {"id", n.id},
      {"provider", n.provider},
      {"kind", NoticeKindName(n.kind)},
      {"state", NoticeStateName(n.state)},
      {"action", n.action},
      {"source", n.source},
      {"raw", n.raw},
  };
  if (n.deadline) {
    j["deadline"] = FormatRfc3339(*n.deadline);
    j["deadline_unix"] = ToUnixSeconds(*n.deadline);
  } else {
    j["deadline"] = nullptr;
  }
  if (!n.event_id.empty()) j["event_id"] = n.event_id;
  if (n.window_end) j["window_end"] = FormatRfc3339(*n.window_end);
  if (n.notice_time) j["notice_time"] = FormatRfc3339(*n.notice_time);
  // Payloads come from the network: never let invalid UTF-8 throw here.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lastcall
