#include "agent/notice.h"

#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr std::array<std::pair<NoticeKind, std::string_view>, 6> kKindNames = {{
    {NoticeKind::kInterruption, "interruption"},
    {NoticeKind::kRelease, "release"},
    {NoticeKind::kRebalance, "rebalance"},
    {NoticeKind::kMaintenance, "maintenance"},
    {NoticeKind::kPreempt, "preempt"},
    {NoticeKind::kLifecycle, "lifecycle"},
}};

// Keeps [A-Za-z0-9._] and drops separators, so times become compact (20170918T082200Z).
void AppendSafe(std::string& out, std::string_view part) {
  for (char c : part) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_') out += c;
    else if (c == '-' && !part.empty() && !std::isdigit(static_cast<unsigned char>(part[0])))
      out += c;  // keep dashes inside ids like i-0abc, drop them inside times
  }
}

}  // namespace

std::string_view NoticeKindName(NoticeKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<NoticeKind> ParseNoticeKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string_view NoticeStateName(NoticeState state) {
  switch (state) {
    case NoticeState::kActive: return "active";
    case NoticeState::kCanceled: return "canceled";
    case NoticeState::kCompleted: return "completed";
  }
  return "unknown";
}

std::string MakeNoticeId(std::string_view provider, NoticeKind kind, std::string_view instance_id,
                         std::string_view key) {
  std::string id;
  AppendSafe(id, provider);
  id += '-';
  id += NoticeKindName(kind);
  if (!instance_id.empty()) {
    id += '-';
    AppendSafe(id, instance_id);
  }
  if (!key.empty()) {
    id += '-';
    AppendSafe(id, key);
  }
  return id;
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
  if (n.notice_time) j["notice_time"] = FormatRfc3339(*n.notice_time);
  // Payloads come from the network: never let invalid UTF-8 throw here.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lastcall
