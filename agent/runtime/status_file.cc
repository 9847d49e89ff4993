#include "agent/runtime/status_file.h"

#include <nlohmann/json.hpp>

#include "agent/base/json_fields.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json PollJson(const PollStatus& p) {
  json lp;
  lp["time"] = TimeOrNull(p.time);
  lp["ok"] = p.ok;
  lp["errors"] = p.errors;
  lp["notices"] = json::array();
  for (const Notice& n : p.notices) {
    lp["notices"].push_back(json::parse(NoticeToJson(n), nullptr, false));
  }
  return lp;
}

// The fields of NoticeToJson that a status reader shows (the payload stays in `raw`).
Notice NoticeFromJson(const JsonFields& f) {
  Notice n;
  n.id = f.Str("id");
  n.provider = f.Str("provider");
  n.kind = f.Enum("kind", kNoticeKindNames);
  n.state = f.Enum("state", kNoticeStateNames);
  n.action = f.Str("action");
  n.source = f.Str("source");
  n.raw = f.Str("raw");
  n.deadline = f.Time("deadline");
  if (f.j.contains("event_id")) n.event_id = f.Str("event_id");
  if (f.j.contains("window_end")) n.window_end = f.Time("window_end");
  if (f.j.contains("notice_time")) n.notice_time = f.Time("notice_time");
  return n;
}

PollStatus PollFromJson(const JsonFields& f) {
  PollStatus p;
  p.time = f.Time("time");
  p.ok = f.Bool("ok");
  p.errors = f.Strings("errors");
  const json& notices = f.At("notices");
  if (!notices.is_array()) f.Fail("notices", "must be an array");
  for (size_t i = 0; i < notices.size(); ++i) {
    p.notices.push_back(
        NoticeFromJson(JsonFields{notices[i], f.where + ".notices[" + std::to_string(i) + "]"}));
  }
  return p;
}

template <typename T>
std::optional<T> OptInt(const JsonFields& f, const char* key) {
  if (f.At(key).is_null()) return std::nullopt;
  int64_t v = f.Int(key);
  if (std::is_unsigned_v<T> && v < 0) f.Fail(key, "must not be negative");
  return static_cast<T>(v);
}

DaemonStatus FromFields(const JsonFields& f) {
  DaemonStatus s;
  s.pid = static_cast<long>(f.Int("pid"));
  s.state = f.Enum("state", kDaemonStateNames);
  s.provider = f.Str("provider");
  s.watching = f.Str("watching");
  s.config = f.Str("config");
  if (!f.At("identity").is_null()) {
    JsonFields id{f.At("identity"), "identity"};
    s.identity = Identity{id.Str("instance_id"), id.Str("instance_type"), id.Str("zone"),
                          id.Str("region"), s.provider};
  }
  s.updated = f.Time("updated");
  s.polls = OptInt<uint64_t>(f, "polls");
  s.poll_errors = OptInt<uint64_t>(f, "poll_errors");
  if (!f.At("last_poll").is_null()) s.last_poll = PollFromJson({f.At("last_poll"), "last_poll"});
  s.last_success = f.Time("last_success");
  s.clock_skew_ms = OptInt<int64_t>(f, "clock_skew_ms");
  std::optional<uint64_t> running = OptInt<uint64_t>(f, "running_hooks");
  s.running_hooks = static_cast<size_t>(running.value_or(0));
  const json& handler = f.At("handler");
  if (!handler.is_object()) f.Fail("handler", "must be an object");
  Result<HandlerStatus> h = HandlerStatusFromJson(handler.dump());
  if (!h.ok()) throw std::runtime_error(h.status().message());
  s.handler = std::move(h).value();
  return s;
}

}  // namespace

DaemonStatus DaemonStatus::WithoutPerPollFields() const {
  DaemonStatus key = *this;
  key.updated.reset();
  key.polls.reset();
  key.poll_errors.reset();
  key.last_success.reset();
  if (key.last_poll) key.last_poll->time.reset();
  return key;
}

std::string DaemonStatusToJson(const DaemonStatus& s, bool pretty) {
  json j;
  j["pid"] = s.pid;
  j["state"] = DaemonStateName(s.state);
  j["provider"] = s.provider;
  j["watching"] = s.watching;
  j["config"] = s.config;
  j["identity"] = s.identity ? json{{"instance_id", s.identity->instance_id},
                                    {"instance_type", s.identity->instance_type},
                                    {"zone", s.identity->zone},
                                    {"region", s.identity->region}}
                             : json(nullptr);
  j["updated"] = TimeOrNull(s.updated);
  j["polls"] = OrNull(s.polls);
  j["poll_errors"] = OrNull(s.poll_errors);
  j["last_poll"] = s.last_poll ? PollJson(*s.last_poll) : json(nullptr);
  j["last_success"] = TimeOrNull(s.last_success);
  j["clock_skew_ms"] = OrNull(s.clock_skew_ms);
  j["running_hooks"] = s.running_hooks;
  j["handler"] = json::parse(HandlerStatusToJson(s.handler));
  // Never the strict handler: one byte that is not UTF-8 in a foreign string would throw and
  // abort the daemon on every poll (issue 11); replaced bytes show as U+FFFD.
  constexpr auto kReplace = json::error_handler_t::replace;
  return pretty ? j.dump(2, ' ', false, kReplace) + "\n" : j.dump(-1, ' ', false, kReplace);
}

Result<DaemonStatus> DaemonStatusFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLoss("not a JSON object");
  try {
    return FromFields(JsonFields{j, "status"});
  } catch (const std::exception& e) {
    return DataLoss(e.what());
  }
}

}  // namespace lastcall
