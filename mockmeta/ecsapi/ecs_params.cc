#include "mockmeta/ecsapi/ecs_params.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace lastcall::mock::ecs {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
  if (s.size() > 64) out += "...";
  return out + "\"";
}

void EcsParamReader::Fail(EcsErrorCode code, std::string message) {
  if (!error_) error_ = EcsError{code, std::move(message)};
}

std::optional<std::string> EcsParamReader::String(std::string_view name, bool required) {
  if (!ok()) return std::nullopt;
  const std::string* v = params_.Get(name);
  if (!v || v->empty()) {
    if (required) {
      Fail(EcsErrorCode::kMissingParameter, "The input parameter \"" + std::string(name) +
                                                "\" that is mandatory for processing "
                                                "this request is not supplied.");
    }
    return std::nullopt;
  }
  return *v;
}

std::optional<long long> EcsParamReader::Integer(std::string_view name, long long min,
                                                 long long max, bool required) {
  std::optional<std::string> s = String(name, required);
  if (!s) return std::nullopt;
  long long v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || v < min || v > max) {
    Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(name) +
                                              "\" is not valid: " + Quote(*s) +
                                              " is not a whole number from " + std::to_string(min) +
                                              " to " + std::to_string(max) + ".");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> EcsParamReader::Bool(std::string_view name) {
  std::optional<std::string> s = String(name);
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(name) +
                                            "\" is not valid: " + Quote(*s) +
                                            " is not true or false.");
  return std::nullopt;
}

std::optional<double> EcsParamReader::Number(std::string_view name, bool required) {
  std::optional<std::string> s = String(name, required);
  if (!s) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || !(v >= 0) || v > 1e9) {
    Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(name) +
                                              "\" is not valid: " + Quote(*s) +
                                              " is not a non-negative number.");
    return std::nullopt;
  }
  return v;
}

std::optional<WallTime> EcsParamReader::Time(std::string_view name) {
  std::optional<std::string> s = String(name);
  if (!s) return std::nullopt;
  Result<WallTime> t = ParseRfc3339(*s);
  // ECS's own minute form: 2026-04-07T00:00Z.
  if (!t.ok() && s->size() == 17 && s->back() == 'Z') t = ParseRfc3339(s->substr(0, 16) + ":00Z");
  if (!t.ok()) {
    Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(name) +
                                              "\" is not valid: " + Quote(*s) +
                                              " is not a UTC time such as 2026-04-07T00:00:00Z.");
    return std::nullopt;
  }
  return *t;
}

std::vector<std::string> EcsParamReader::JsonList(std::string_view name, size_t max) {
  std::optional<std::string> s = String(name);
  if (!s) return {};
  nlohmann::json j = nlohmann::json::parse(*s, nullptr, false);
  const std::string what = "The specified parameter \"" + std::string(name) + "\" is not valid: ";
  if (j.is_discarded() || !j.is_array()) {
    Fail(EcsErrorCode::kInvalidParameter, what + Quote(*s) + " is not a JSON array of strings.");
    return {};
  }
  if (j.size() > max) {
    Fail(EcsErrorCode::kInvalidParameter, what + "more than " + std::to_string(max) + " entries.");
    return {};
  }
  std::vector<std::string> out;
  for (const nlohmann::json& e : j) {
    if (!e.is_string()) {
      Fail(EcsErrorCode::kInvalidParameter, what + "entries must be strings.");
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> EcsParamReader::RepeatList(std::string_view name, size_t max) {
  std::vector<std::string> out;
  if (!ok()) return out;
  const std::string prefix = std::string(name) + ".";
  size_t given = 0;
  for (auto it = params_.all().lower_bound(prefix);
       it != params_.all().end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    ++given;
  }
  for (size_t n = 1; n <= given; ++n) {
    const std::string* v = params_.Get(prefix + std::to_string(n));
    if (!v) {
      Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(name) +
                                                "\" is not valid: " + prefix +
                                                "N must be numbered 1, 2, ... without gaps.");
      return {};
    }
    out.push_back(*v);
  }
  if (out.size() > max) {
    Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(name) +
                                              "\" is not valid: more than " + std::to_string(max) +
                                              " entries.");
    return {};
  }
  return out;
}

std::vector<EcsTag> EcsParamReader::Tags(std::string_view prefix, size_t max) {
  std::vector<EcsTag> out;
  for (size_t n = 1; n <= max + 1 && ok(); ++n) {
    const std::string base = std::string(prefix) + "." + std::to_string(n) + ".";
    const std::string* key = params_.Get(base + "Key");
    const std::string* value = params_.Get(base + "Value");
    if (!key && !value) break;
    if (n > max) {
      Fail(EcsErrorCode::kInvalidParameter, "The specified parameter \"" + std::string(prefix) +
                                                "\" is not valid: more than " +
                                                std::to_string(max) + " tags.");
      break;
    }
    if (!key || key->empty()) {
      Fail(EcsErrorCode::kMissingParameter, "The input parameter \"" + base +
                                                "Key\" that is mandatory for processing this "
                                                "request is not supplied.");
      break;
    }
    out.push_back({*key, value ? *value : ""});
  }
  return out;
}

}  // namespace lastcall::mock::ecs
