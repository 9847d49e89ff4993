#include "agent/actions/notice_record.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/escape.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

using nlohmann::json;

// Far more than any retry policy makes; a bound so the value fits an int whatever the file says.
constexpr std::int64_t kMaxAttempts = 1'000'000;

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

// Millisecond precision on disk: restart decisions compare these against deadlines.
json Millis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json MillisOrNull(const std::optional<WallTime>& t) { return t ? Millis(*t) : json(nullptr); }

// Readers: throw std::runtime_error naming the field; the caller turns it into a Status.
const json& Field(const json& obj, const char* name, const std::string& where) {
  auto it = obj.find(name);
  if (it == obj.end()) throw std::runtime_error(where + ": missing field \"" + name + "\"");
  return *it;
}

std::string Str(const json& obj, const char* name, const std::string& where) {
  const json& v = Field(obj, name, where);
  if (!v.is_string()) throw std::runtime_error(where + ": \"" + name + "\" must be a string");
  return v.get<std::string>();
}

std::optional<WallTime> OptMillis(const json& obj, const char* name, const std::string& where) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  // An unsigned value above INT64_MAX would wrap in get<long long>(); FromUnixMillis refuses
  // what a nanosecond WallTime cannot hold (a deadline_ms beyond 9.2e12 overflowed).
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<std::uint64_t>() > std::uint64_t{std::numeric_limits<long long>::max()})) {
    throw std::runtime_error(where + ": \"" + name + "\" must be integer milliseconds or null");
  }
  auto t = FromUnixMillis(it->get<long long>());
  if (!t.ok()) throw std::runtime_error(where + ": \"" + name + "\": " + t.status().message());
  return *t;
}

// An exact integer: 4294967297 is not 1 (get<int>() truncated it to 1 and accepted it).
bool IsInteger(const json& v, long long want) {
  if (v.is_number_unsigned()) return want >= 0 && v.get<std::uint64_t>() == std::uint64_t(want);
  return v.is_number_integer() && v.get<std::int64_t>() == want;
}

int OptInt(const json& obj, const char* name, int fallback, const std::string& where) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    throw std::runtime_error(where + ": \"" + name + "\" must be an integer");
  long long v = it->get<long long>();
  if (v < -(1LL << 30) || v > (1LL << 30)) {
    throw std::runtime_error(where + ": \"" + name + "\" is out of range");
  }
  return static_cast<int>(v);
}

// The parts of a record (NoticeRecordFromJson). The readers above throw; the caller catches.
Result<Notice> NoticeFromJson(const json& n) {
  Notice notice;
  notice.id = Str(n, "id", "notice");
  if (notice.id.empty()) return DataLoss("notice: \"id\" is empty");
  notice.provider = Str(n, "provider", "notice");
  std::string kind = Str(n, "kind", "notice");
  auto k = ParseNoticeKind(kind);
  if (!k) return DataLoss("notice: unknown \"kind\" " + Quote(kind));
  notice.kind = *k;
  std::string state = Str(n, "state", "notice");
  auto s = ParseNoticeState(state);
  if (!s) return DataLoss("notice: unknown \"state\" " + Quote(state));
  notice.state = *s;
  notice.action = Str(n, "action", "notice");
  notice.deadline = OptMillis(n, "deadline_ms", "notice");
  notice.notice_time = OptMillis(n, "notice_time_ms", "notice");
  notice.source = Str(n, "source", "notice");
  if (n.contains("event_id")) notice.event_id = Str(n, "event_id", "notice");
  notice.window_end = OptMillis(n, "window_end_ms", "notice");
  notice.raw = Str(n, "raw", "notice");
  return notice;
}

Result<HookProcessRecord> HookProcessFromJson(const json& hp, const std::string& where) {
  HookProcessRecord h;
  h.pgid = OptInt(hp, "pgid", 0, where + ".hook_process");
  const json& ticks = Field(hp, "start_ticks", where + ".hook_process");
  if (!ticks.is_number_unsigned()) return DataLoss(where + ": bad hook_process.start_ticks");
  h.start_ticks = ticks.get<unsigned long long>();
  h.hook = Str(hp, "hook", where + ".hook_process");
  auto until = OptMillis(hp, "until_ms", where + ".hook_process");
  if (!until || h.pgid <= 1) return DataLoss(where + ": bad hook_process");
  h.until = *until;
  return h;
}

Result<PhaseRecord> PhaseFromJson(const json& p, const std::string& where) {
  if (!p.is_object()) return DataLoss(where + " must be an object");
  PhaseRecord pr;
  pr.started = OptMillis(p, "started_ms", where);
  pr.ended = OptMillis(p, "ended_ms", where);
  std::string result = Str(p, "result", where);
  pr.result = ParsePhaseResult(result);
  if (!pr.result && !result.empty()) {
    return DataLoss(where + ": unknown \"result\" " + Quote(result));
  }
  const json& attempts = Field(p, "attempts", where);
  if (!attempts.is_number_integer() || attempts.get<std::int64_t>() < 0 ||
      attempts.get<std::int64_t>() > kMaxAttempts) {
    return DataLoss(where + ": \"attempts\" must be an integer from 0 to " +
                    std::to_string(kMaxAttempts));
  }
  pr.attempts = static_cast<int>(attempts.get<std::int64_t>());
  if (p.contains("adopted_from")) pr.adopted_from = Str(p, "adopted_from", where);
  if (auto hp = p.find("hook_process"); hp != p.end() && hp->is_object()) {
    Result<HookProcessRecord> h = HookProcessFromJson(*hp, where);
    if (!h.ok()) return h.status();
    pr.hook_process = *h;
  }
  return pr;
}

}  // namespace

bool NoticeRecord::Started(HookPhase phase) const {
  auto it = phases.find(phase);
  return it != phases.end() && it->second.started.has_value();
}

bool NoticeRecord::Done(HookPhase phase) const {
  auto it = phases.find(phase);
  return it != phases.end() && it->second.done();
}

bool NoticeRecord::AnyWorkStarted() const {
  return Started(HookPhase::kCheckpoint) || Started(HookPhase::kDrain);
}

std::string NoticeRecordToJson(const NoticeRecord& r) {
  const Notice& n = r.notice;
  json notice = {
      {"id", n.id},
      {"provider", n.provider},
      {"kind", NoticeKindName(n.kind)},
      {"state", NoticeStateName(n.state)},
      {"action", n.action},
      {"deadline_ms", MillisOrNull(n.deadline)},
      {"deadline", TimeOrNull(n.deadline)},  // for people reading the file
      {"notice_time_ms", MillisOrNull(n.notice_time)},
      {"event_id", n.event_id},
      {"window_end_ms", MillisOrNull(n.window_end)},
      {"source", n.source},
      {"raw", n.raw},
  };
  json phases = json::object();
  for (const auto& [phase, p] : r.phases) {
    json pj = {
        {"started_ms", MillisOrNull(p.started)},
        {"ended_ms", MillisOrNull(p.ended)},
        {"result", p.result ? PhaseResultName(*p.result) : std::string_view()},
        {"attempts", p.attempts},
    };
    if (!p.adopted_from.empty()) pj["adopted_from"] = p.adopted_from;
    if (p.hook_process) {
      pj["hook_process"] = {{"pgid", p.hook_process->pgid},
                            {"start_ticks", p.hook_process->start_ticks},
                            {"hook", p.hook_process->hook},
                            {"until_ms", Millis(p.hook_process->until)}};
    }
    phases[std::string(HookPhaseName(phase))] = std::move(pj);
  }
  json j = {
      {"version", 1},
      {"notice", notice},
      {"first_seen_ms", Millis(r.first_seen)},
      {"first_seen", FormatRfc3339(r.first_seen)},
      {"withdrawn_ms", MillisOrNull(r.withdrawn)},
      {"phases", phases},
  };
  if (!r.superseded_by.empty()) j["superseded_by"] = r.superseded_by;
  j["absent_since_ms"] = MillisOrNull(r.absent_since);
  j["absent_polls"] = r.absent_polls;
  j["episode"] = r.episode;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<NoticeRecord> NoticeRecordFromJson(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) return DataLoss("record is not a JSON object");
    const json& version = Field(j, "version", "record");
    if (!IsInteger(version, 1)) {
      return DataLoss("record: unsupported \"version\" " +
                      Quote(version.dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    NoticeRecord r;
    const json& n = Field(j, "notice", "record");
    if (!n.is_object()) return DataLoss("record: \"notice\" must be an object");
    Result<Notice> notice = NoticeFromJson(n);
    if (!notice.ok()) return notice.status();
    r.notice = std::move(*notice);
    auto first = OptMillis(j, "first_seen_ms", "record");
    if (!first) return DataLoss("record: missing field \"first_seen_ms\"");
    r.first_seen = *first;
    r.withdrawn = OptMillis(j, "withdrawn_ms", "record");
    // Optional: records written before the field existed have none.
    if (j.contains("superseded_by")) r.superseded_by = Str(j, "superseded_by", "record");
    r.absent_since = OptMillis(j, "absent_since_ms", "record");
    r.absent_polls = OptInt(j, "absent_polls", 0, "record");
    r.episode = OptInt(j, "episode", 1, "record");
    if (r.absent_polls < 0 || r.episode < 1) return DataLoss("record: bad episode or absent_polls");
    const json& phases = Field(j, "phases", "record");
    if (!phases.is_object()) return DataLoss("record: \"phases\" must be an object");
    for (const auto& [name, p] : phases.items()) {
      auto phase = ParseHookPhase(name);
      if (!phase) return DataLoss("phases: unknown phase " + Quote(name));
      Result<PhaseRecord> pr = PhaseFromJson(p, "phases." + name);  // a known name: safe to show
      if (!pr.ok()) return pr.status();
      r.phases[*phase] = std::move(*pr);
    }
    return r;
  } catch (const std::exception& e) {
    return DataLoss(e.what());
  }
}

}  // namespace lastcall
