#include "mockmeta/ec2api/query_params.h"

#include <charconv>
#include <cmath>
#include <set>
#include <utility>

#include "common/time_format.h"

namespace lastcall::mock::ec2 {

namespace {

// A parameter name or value quoted for a message: printable ASCII, at most 64 bytes.
std::string Quote(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (s.size() > 64) out += "...";
  return out;
}

bool AllOf(std::string_view s, std::string_view alphabet) {
  return !s.empty() && s.find_first_not_of(alphabet) == std::string_view::npos;
}

}  // namespace

Status QueryParams::DecodeInto(std::string_view form, QueryParams& into) {
  return DecodeForm(form, into.values_);  // the decoder the ECS face shares (form_params.h)
}

const std::string* QueryParams::Get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

namespace {
// The N right after "prefix." in `name`, 0 when not a positive number, -1 when not under prefix.
int IndexAfter(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() + 1 || name.compare(0, prefix.size(), prefix) != 0 ||
      name[prefix.size()] != '.') {
    return -1;
  }
  std::string_view rest = name.substr(prefix.size() + 1);
  rest = rest.substr(0, rest.find('.'));
  int n = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || p != rest.data() + rest.size() || n <= 0) return 0;
  return n;
}
}  // namespace

std::vector<int> QueryParams::Indices(std::string_view prefix) const {
  std::set<int> found;
  // Names under "prefix." sort together: start at the first one.
  const std::string start = std::string(prefix) + ".";
  for (auto it = values_.lower_bound(start); it != values_.end(); ++it) {
    if (it->first.compare(0, start.size(), start) != 0) break;
    const int n = IndexAfter(it->first, prefix);
    if (n > 0) found.insert(n);
  }
  return {found.begin(), found.end()};
}

std::optional<std::string> QueryParams::BadIndex(std::string_view prefix) const {
  const std::string start = std::string(prefix) + ".";
  for (auto it = values_.lower_bound(start); it != values_.end(); ++it) {
    if (it->first.compare(0, start.size(), start) != 0) break;
    if (IndexAfter(it->first, prefix) == 0) return it->first;
  }
  return std::nullopt;
}

void ParamReader::Fail(Ec2ErrorCode code, std::string message) {
  if (!error_) error_ = Ec2Error{code, std::move(message)};
}

std::optional<std::string> ParamReader::String(std::string_view name, bool required) {
  if (!ok()) return std::nullopt;
  const std::string* v = params_.Get(name);
  if (!v) {
    if (required) {
      Fail(Ec2ErrorCode::kMissingParameter,
           "The request must contain the parameter " + std::string(name));
    }
    return std::nullopt;
  }
  return *v;
}

std::optional<long long> ParamReader::Integer(std::string_view name, long long min, long long max,
                                              bool required) {
  std::optional<std::string> s = String(name, required);
  if (!s) return std::nullopt;
  long long n = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
  if (s->empty() || ec != std::errc() || p != s->data() + s->size()) {
    Fail(Ec2ErrorCode::kInvalidParameterValue, "Value (" + Quote(*s) + ") for parameter " +
                                                   std::string(name) +
                                                   " is invalid. Expected an integer.");
    return std::nullopt;
  }
  if (n < min || n > max) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Value (" + *s + ") for parameter " + std::string(name) + " is invalid. Expected " +
             std::to_string(min) + " to " + std::to_string(max) + ".");
    return std::nullopt;
  }
  return n;
}

std::optional<bool> ParamReader::Bool(std::string_view name) {
  std::optional<std::string> s = String(name);
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  Fail(Ec2ErrorCode::kInvalidParameterValue, "Value (" + Quote(*s) + ") for parameter " +
                                                 std::string(name) +
                                                 " is invalid. Expected true or false.");
  return std::nullopt;
}

std::optional<double> ParamReader::Price(std::string_view name) {
  std::optional<std::string> s = String(name);
  if (!s) return std::nullopt;
  double v = 0;
  // Plain decimals only: no exponents, signs, "inf" or "nan".
  const bool shape = AllOf(*s, "0123456789.") && s->find('.') == s->rfind('.') && *s != ".";
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (!shape || ec != std::errc() || p != s->data() + s->size() || !std::isfinite(v)) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Value (" + Quote(*s) + ") for parameter " + std::string(name) +
             " is invalid. Expected a price in USD per hour, e.g. 0.05.");
    return std::nullopt;
  }
  return v;
}

std::optional<WallTime> ParamReader::Time(std::string_view name) {
  std::optional<std::string> s = String(name);
  if (!s) return std::nullopt;
  Result<WallTime> t = ParseRfc3339(*s);
  if (!t.ok()) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Value (" + Quote(*s) + ") for parameter " + std::string(name) +
             " is invalid. Expected an ISO 8601 time such as 2026-04-07T00:00:00Z.");
    return std::nullopt;
  }
  return *t;
}

std::vector<std::string> ParamReader::List(std::string_view name, size_t max) {
  std::vector<std::string> out;
  if (!ok()) return out;
  if (std::optional<std::string> bad = params_.BadIndex(name)) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Parameter " + Quote(*bad) + " is invalid: list members are numbered from 1");
    return out;
  }
  for (int n : params_.Indices(name)) {
    const std::string* v = params_.Get(std::string(name) + "." + std::to_string(n));
    if (!v) {
      Fail(Ec2ErrorCode::kInvalidParameterValue, "Parameter " + std::string(name) + "." +
                                                     std::to_string(n) +
                                                     " has members; expected a value");
      return {};
    }
    out.push_back(*v);
  }
  if (out.size() > max) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Too many values for " + std::string(name) + " (at most " + std::to_string(max) + ")");
    return {};
  }
  return out;
}

std::vector<Filter> ParamReader::Filters() {
  std::vector<Filter> out;
  if (!ok()) return out;
  if (std::optional<std::string> bad = params_.BadIndex("Filter")) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Parameter " + Quote(*bad) + " is invalid: filters are numbered from 1");
    return out;
  }
  for (int n : params_.Indices("Filter")) {
    const std::string base = "Filter." + std::to_string(n);
    std::optional<std::string> name = String(base + ".Name", true);
    std::vector<std::string> values = List(base + ".Value");
    if (!ok()) return {};
    if (values.empty()) {
      Fail(Ec2ErrorCode::kInvalidParameterValue,
           "The filter '" + Quote(*name) + "' (" + base + ") has no values");
      return {};
    }
    out.push_back({*name, std::move(values)});
  }
  if (out.size() > 200) Fail(Ec2ErrorCode::kInvalidParameterValue, "Too many filters");
  return out;
}

std::vector<Tag> ParamReader::Tags(std::string_view prefix, bool value_required) {
  std::vector<Tag> out;
  if (!ok()) return out;
  if (std::optional<std::string> bad = params_.BadIndex(prefix)) {
    Fail(Ec2ErrorCode::kInvalidParameterValue,
         "Parameter " + Quote(*bad) + " is invalid: tags are numbered from 1");
    return out;
  }
  for (int n : params_.Indices(prefix)) {
    const std::string base = std::string(prefix) + "." + std::to_string(n);
    std::optional<std::string> key = String(base + ".Key", true);
    std::optional<std::string> value = String(base + ".Value", value_required);
    if (!ok()) return {};
    if (key->empty() || key->size() > 128 || (value && value->size() > 256)) {
      Fail(Ec2ErrorCode::kInvalidParameterValue,
           "Tag " + base + ": keys are 1..128 characters, values at most 256");
      return {};
    }
    out.push_back({*key, value.value_or(""), value.has_value()});
  }
  if (out.size() > 50) {
    Fail(Ec2ErrorCode::kInvalidParameterValue, "Too many tags (at most 50 per resource)");
  }
  return out;
}

std::vector<TagSpecification> ParamReader::TagSpecifications() {
  std::vector<TagSpecification> out;
  if (!ok()) return out;
  if (std::optional<std::string> bad = params_.BadIndex("TagSpecification")) {
    Fail(Ec2ErrorCode::kInvalidParameterValue, "Parameter " + Quote(*bad) + " is invalid");
    return out;
  }
  for (int n : params_.Indices("TagSpecification")) {
    const std::string base = "TagSpecification." + std::to_string(n);
    std::optional<std::string> type = String(base + ".ResourceType", true);
    std::vector<Tag> tags = Tags(base + ".Tag", false);
    if (!ok()) return {};
    out.push_back({*type, std::move(tags)});
  }
  return out;
}

std::optional<long long> ParamReader::MaxResults(long long min, long long max) {
  return Integer("MaxResults", min, max);
}

bool IsInstanceId(std::string_view s) {
  if (s.size() != 10 && s.size() != 19) return false;
  return s.substr(0, 2) == "i-" && AllOf(s.substr(2), "0123456789abcdef");
}

bool IsSpotRequestId(std::string_view s) {
  return s.size() == 12 && s.substr(0, 4) == "sir-" &&
         AllOf(s.substr(4), "0123456789abcdefghijklmnopqrstuvwxyz");
}

}  // namespace lastcall::mock::ec2
