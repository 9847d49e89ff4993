#include "agent/providers/metadata_parse.h"

#include <array>
#include <nlohmann/json.hpp>

#include "agent/providers/http_client.h"
#include "common/escape.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

using nlohmann::json;

Result<json> ParseJson(std::string_view body, std::string_view what) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return DataLoss(std::string(what) + ": not valid JSON: " + Quote(body));
  }
  return j;
}

// A string member, required.
Result<std::string> StringField(const json& obj, std::string_view key, std::string_view what) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) {
    return DataLoss(std::string(what) + ": missing \"" + std::string(key) + "\"");
  }
  if (!it->is_string()) {
    return DataLoss(std::string(what) + ": \"" + std::string(key) + "\" must be a string, got " +
                    Quote(it->dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  return it->get<std::string>();
}

Result<WallTime> Rfc3339Field(const json& obj, std::string_view key, std::string_view what) {
  auto s = StringField(obj, key, what);
  if (!s.ok()) return s.status();
  auto t = ParseRfc3339(*s);
  if (!t.ok()) {
    return DataLoss(std::string(what) + ": \"" + std::string(key) + "\": " + t.status().message());
  }
  return *t;
}

// A deadline: a well-formed time outside the representable years is no usable deadline
// (nullopt), so the notice still counts; any other failure is the caller's error.
Result<std::optional<WallTime>> DeadlineOrNone(Result<WallTime> t) {
  if (t.ok()) return std::optional<WallTime>(*t);
  if (t.status().code() == StatusCode::kOutOfRange) return std::optional<WallTime>();
  return t.status();
}

}  // namespace

Result<InstanceAction> ParseInstanceAction(std::string_view body) {
  constexpr std::string_view kWhat = "spot/instance-action";
  auto j = ParseJson(body, kWhat);
  if (!j.ok()) return j.status();
  if (!j->is_object()) {
    return DataLoss(std::string(kWhat) + ": expected a JSON object like " +
                    "{\"action\":\"terminate\",\"time\":\"2017-09-18T08:22:00Z\"}, got " +
                    Quote(body));
  }
  auto action = StringField(*j, "action", kWhat);
  if (!action.ok()) return action.status();
  if (*action != "terminate" && *action != "stop" && *action != "hibernate") {
    return DataLoss(std::string(kWhat) + ": \"action\" must be terminate, stop or hibernate, got " +
                    Quote(*action));
  }
  auto time = StringField(*j, "time", kWhat);
  if (!time.ok()) return time.status();
  auto deadline = DeadlineOrNone(ParseRfc3339(*time));
  if (!deadline.ok()) {
    return DataLoss(std::string(kWhat) + ": \"time\": " + deadline.status().message());
  }
  return InstanceAction{*action, *deadline};
}

Result<std::optional<WallTime>> ParseTerminationTime(std::string_view body) {
  auto t = DeadlineOrNone(ParseRfc3339(TrimWhitespace(body)));
  if (!t.ok()) return DataLoss("termination-time: " + t.status().message());
  return *t;
}

Result<WallTime> ParseRebalance(std::string_view body) {
  constexpr std::string_view kWhat = "events/recommendations/rebalance";
  auto j = ParseJson(body, kWhat);
  if (!j.ok()) return j.status();
  if (!j->is_object()) {
    return DataLoss(
        std::string(kWhat) +
        ": expected a JSON object like {\"noticeTime\":\"2020-10-16T19:18:24Z\"}, got " +
        Quote(body));
  }
  return Rfc3339Field(*j, "noticeTime", kWhat);
}

Result<ScheduledEvents> ParseScheduledEvents(std::string_view body) {
  constexpr std::string_view kWhat = "events/maintenance/scheduled";
  auto j = ParseJson(body, kWhat);
  if (!j.ok()) return j.status();
  if (!j->is_array()) {
    return DataLoss(std::string(kWhat) + ": expected a JSON array of events, got " + Quote(body));
  }
  ScheduledEvents out;
  for (size_t i = 0; i < j->size(); ++i) {
    const json& e = (*j)[i];
    const std::string where = std::string(kWhat) + "[" + std::to_string(i) + "]";
    if (!e.is_object()) {
      out.errors.push_back(DataLoss(where + ": expected an object, got " +
                                    Quote(e.dump(-1, ' ', false, json::error_handler_t::replace))));
      continue;
    }
    auto id = StringField(e, "EventId", where);
    auto code = StringField(e, "Code", where);
    auto state = StringField(e, "State", where);
    auto not_before = StringField(e, "NotBefore", where);
    for (const auto* r : {&id, &code, &state, &not_before}) {
      if (!r->ok()) {
        out.errors.push_back(r->status());
        break;
      }
    }
    if (!id.ok() || !code.ok() || !state.ok() || !not_before.ok()) continue;
    ScheduledEvent ev;
    ev.event_id = *id;
    ev.code = *code;
    if (id->empty() || code->empty()) {
      out.errors.push_back(DataLoss(where + ": empty EventId or Code"));
      continue;
    }
    if (*state == "active") {
      ev.state = NoticeState::kActive;
    } else if (*state == "canceled" || *state == "cancelled") {
      ev.state = NoticeState::kCanceled;
    } else if (*state == "completed") {
      ev.state = NoticeState::kCompleted;
    } else {
      out.errors.push_back(DataLoss(
          where + ": \"State\" must be active, canceled or completed, got " + Quote(*state)));
      continue;
    }
    auto nb = DeadlineOrNone(ParseAwsEventTime(*not_before));
    if (!nb.ok()) {
      out.errors.push_back(DataLoss(where + ": \"NotBefore\": " + nb.status().message()));
      continue;
    }
    ev.not_before = *nb;
    if (auto it = e.find("NotAfter"); it != e.end() && !it->is_null()) {
      auto na = StringField(e, "NotAfter", where);
      if (!na.ok()) {
        out.errors.push_back(na.status());
        continue;
      }
      if (!na->empty()) {
        auto t = DeadlineOrNone(ParseAwsEventTime(*na));
        if (!t.ok()) {
          out.errors.push_back(DataLoss(where + ": \"NotAfter\": " + t.status().message()));
          continue;
        }
        ev.not_after = *t;
      }
    }
    if (auto it = e.find("Description"); it != e.end() && it->is_string()) {
      ev.description = it->get<std::string>();
    }
    ev.raw = e.dump(-1, ' ', false, json::error_handler_t::replace);
    out.events.push_back(std::move(ev));
  }
  return out;
}

Result<std::string> ParseLifecycleState(std::string_view body) {
  static constexpr std::array<std::string_view, 8> kStates = {
      "InService",         "Terminated",     "Detached",       "Standby",
      "Warmed:Hibernated", "Warmed:Running", "Warmed:Stopped", "Warmed:Terminated"};
  std::string_view s = TrimWhitespace(body);
  for (std::string_view known : kStates) {
    if (s == known) return std::string(s);
  }
  return DataLoss(
      "autoscaling/target-lifecycle-state: expected one of InService, Terminated, "
      "Detached, Standby, Warmed:*, got " +
      Quote(s));
}

}  // namespace lastcall
