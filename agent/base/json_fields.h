// JsonFields: typed reads of one JSON object's fields, for the readers of lastcall's own JSON
// files (status.json). Each getter throws std::runtime_error naming the field ("where.key
// must be a string"); the reader catches it once and returns a DataLoss.
//
// Thread-safety: a view of a json value; as safe as that value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/enum_names.h"
#include "common/time_format.h"

namespace lastcall {

struct JsonFields {
  const nlohmann::json& j;
  std::string where;

  const nlohmann::json& At(const char* key) const {
    if (!j.is_object() || !j.contains(key)) Fail(key, "is missing");
    return j.at(key);
  }
  [[noreturn]] void Fail(const char* key, const char* what) const {
    throw std::runtime_error(where + "." + key + " " + what);
  }
  std::string Str(const char* key) const {
    const nlohmann::json& v = At(key);
    if (!v.is_string()) Fail(key, "must be a string");
    return v.get<std::string>();
  }
  std::optional<WallTime> Time(const char* key) const {
    const nlohmann::json& v = At(key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) Fail(key, "must be a time or null");
    Result<WallTime> t = ParseRfc3339(v.get<std::string>());
    if (!t.ok()) Fail(key, "is not an RFC 3339 time");
    return *t;
  }
  int64_t Int(const char* key) const {
    const nlohmann::json& v = At(key);
    if (!v.is_number_integer()) Fail(key, "must be an integer");
    return v.get<int64_t>();
  }
  std::vector<std::string> Strings(const char* key) const {
    const nlohmann::json& a = At(key);
    if (!a.is_array()) Fail(key, "must be an array");
    std::vector<std::string> out;
    out.reserve(a.size());
    for (const nlohmann::json& s : a) {
      if (!s.is_string()) Fail(key, "must hold strings");
      out.push_back(s.get<std::string>());
    }
    return out;
  }
  bool Bool(const char* key) const {
    const nlohmann::json& v = At(key);
    if (!v.is_boolean()) Fail(key, "must be true or false");
    return v.get<bool>();
  }
  template <typename E, size_t N>
  E Enum(const char* key, const EnumNames<E, N>& names) const {
    std::optional<E> e = ValueOf(names, Str(key));
    if (!e) Fail(key, "has an unknown value");
    return *e;
  }
};

}  // namespace lastcall
