#include "agent/actions/handler_status.h"

#include <nlohmann/json.hpp>

#include "agent/base/json_fields.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

json PhasesJson(const std::map<HookPhase, PhaseStatus>& phases) {
  json out = json::object();
  for (const auto& [phase, p] : phases) {
    out[std::string(HookPhaseName(phase))] = {
        {"started", TimeOrNull(p.started)},
        {"ended", TimeOrNull(p.ended)},
        {"result", p.result ? PhaseResultName(*p.result) : std::string_view()},
        {"attempts", p.attempts},
    };
  }
  return out;
}

json NoticeStatusJson(const NoticeStatus& n) {
  json entry = {
      {"id", n.id},
      {"provider", n.provider},
      {"kind", NoticeKindName(n.kind)},
      {"state", NoticeStateName(n.state)},
      {"action", n.action},
      {"deadline", TimeOrNull(n.deadline)},
      {"first_seen", FormatRfc3339(n.first_seen)},
      {"withdrawn", TimeOrNull(n.withdrawn)},
      {"absent_since", TimeOrNull(n.absent_since)},
      {"episode", n.episode},
      {"phases", PhasesJson(n.phases)},
      {"running_hooks", n.running_hooks},
      {"finished", n.finished},
      {"plan", n.plan},
  };
  if (n.seconds_left) entry["seconds_left"] = *n.seconds_left;
  return entry;
}

PhaseStatus PhaseFromJson(const JsonFields& r) {
  PhaseStatus p;
  p.started = r.Time("started");
  p.ended = r.Time("ended");
  std::string result = r.Str("result");
  p.result = ParsePhaseResult(result);
  if (!p.result && !result.empty()) r.Fail("result", "has an unknown value");
  p.attempts = static_cast<int>(r.Int("attempts"));
  return p;
}

NoticeStatus NoticeFromJson(const JsonFields& r) {
  NoticeStatus n;
  n.id = r.Str("id");
  n.provider = r.Str("provider");
  n.kind = r.Enum("kind", kNoticeKindNames);
  n.state = r.Enum("state", kNoticeStateNames);
  n.action = r.Str("action");
  n.deadline = r.Time("deadline");
  std::optional<WallTime> first = r.Time("first_seen");
  if (!first) r.Fail("first_seen", "must be a time");
  n.first_seen = *first;
  n.withdrawn = r.Time("withdrawn");
  n.absent_since = r.Time("absent_since");
  n.episode = static_cast<int>(r.Int("episode"));
  const json& phases = r.At("phases");
  if (!phases.is_object()) r.Fail("phases", "must be an object");
  for (const auto& [name, p] : phases.items()) {
    std::optional<HookPhase> phase = ParseHookPhase(name);
    if (!phase) r.Fail("phases", "names an unknown phase");
    n.phases[*phase] = PhaseFromJson(JsonFields{p, r.where + ".phases." + name});
  }
  n.running_hooks = r.Strings("running_hooks");
  n.finished = r.Bool("finished");
  n.plan = r.Str("plan");
  if (r.j.contains("seconds_left")) n.seconds_left = r.Int("seconds_left");
  return n;
}

}  // namespace

bool HandlerStatus::AnyPhaseFailed() const {
  for (const NoticeStatus& n : notices) {
    for (const auto& [phase, p] : n.phases) {
      if (p.result == PhaseResult::kFailed || p.result == PhaseResult::kTimeout) return true;
    }
  }
  return false;
}

std::string HandlerStatusToJson(const HandlerStatus& status) {
  json notices = json::array();
  for (const NoticeStatus& n : status.notices) notices.push_back(NoticeStatusJson(n));
  json j = {{"notices", notices},
            {"running_hooks", status.running_hooks},
            {"clock_checked", status.clock_checked}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<HandlerStatus> HandlerStatusFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLoss("handler status: not a JSON object");
  try {
    JsonFields r{j, "handler"};
    HandlerStatus s;
    const json& notices = r.At("notices");
    if (!notices.is_array()) r.Fail("notices", "must be an array");
    for (size_t i = 0; i < notices.size(); ++i) {
      s.notices.push_back(
          NoticeFromJson(JsonFields{notices[i], "handler.notices[" + std::to_string(i) + "]"}));
    }
    int64_t running = r.Int("running_hooks");
    if (running < 0) r.Fail("running_hooks", "must not be negative");
    s.running_hooks = static_cast<size_t>(running);
    s.clock_checked = r.Bool("clock_checked");
    return s;
  } catch (const std::exception& e) {
    return DataLoss(e.what());
  }
}

}  // namespace lastcall
