#include "mockmeta/testing/scenario_builder.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace lastcall::mock {
namespace {

void SetTop(TomlTable& top, std::string key, TomlValue value) {
  for (auto& [k, v] : top) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  top.emplace_back(std::move(key), std::move(value));
}

}  // namespace

TomlValue::TomlValue(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  toml_ = out + "\"";
}

TomlValue::TomlValue(int64_t i) : toml_(std::to_string(i)) {}

TomlValue::TomlValue(double d) {
  if (std::isnan(d)) {
    toml_ = "nan";
    return;
  }
  if (std::isinf(d)) {
    toml_ = d > 0 ? "inf" : "-inf";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest text that reads back as d
  toml_.assign(buf, end);
  if (toml_.find_first_of(".e") == std::string::npos) toml_ += ".0";
}

TomlValue::TomlValue(bool b) : toml_(b ? "true" : "false") {}

TomlValue TomlValue::Raw(std::string toml) { return TomlValue(RawTag{}, std::move(toml)); }

ScenarioBuilder& ScenarioBuilder::Seed(uint64_t seed) {
  SetTop(top_, "seed", TomlValue::Raw(std::to_string(seed)));
  return *this;
}

ScenarioBuilder& ScenarioBuilder::Start(std::string_view rfc3339) {
  SetTop(top_, "start", rfc3339);
  return *this;
}

ScenarioBuilder& ScenarioBuilder::AccountId(std::string_view account_id) {
  SetTop(top_, "account_id", account_id);
  return *this;
}

ScenarioBuilder& ScenarioBuilder::Zone(std::string_view name, std::string_view region) {
  return Entry("zone", {{"name", name}, {"region", region}});
}

ScenarioBuilder& ScenarioBuilder::Type(std::string_view name, int vcpu, double memory_gib,
                                       double on_demand_price) {
  return Entry("instance_type", {{"name", name},
                                 {"vcpu", vcpu},
                                 {"memory_gib", memory_gib},
                                 {"on_demand_price", on_demand_price}});
}

ScenarioBuilder& ScenarioBuilder::Aws() {
  return Zone("us-east-1a", "us-east-1").Type("m5.large", 2, 8, 0.096);
}

ScenarioBuilder& ScenarioBuilder::Alibaba() {
  return Zone("cn-hangzhou-b", "cn-hangzhou").Type("ecs.c5.8xlarge", 32, 64, 1.52);
}

ScenarioBuilder& ScenarioBuilder::Pool(std::string_view type, std::string_view zone,
                                       int64_t capacity, double price, bool fixed_model) {
  TomlTable keys = {{"type", type}, {"zone", zone}, {"capacity", capacity}, {"price", price}};
  if (fixed_model) keys.emplace_back("model", TomlValue::Raw(R"({ kind = "fixed" })"));
  return Entry("pool", keys);
}

ScenarioBuilder& ScenarioBuilder::Pool(std::string_view type, std::string_view zone,
                                       int64_t capacity, std::optional<double> price,
                                       const WalkModel& model) {
  TomlTable keys = {{"type", type}, {"zone", zone}, {"capacity", capacity}};
  if (price) keys.emplace_back("price", *price);
  std::string m = "{ kind = \"walk\", step = " + TomlValue(model.step).toml() +
                  ", mean = " + TomlValue(model.mean).toml() +
                  ", floor = " + TomlValue(model.floor).toml() +
                  ", volatility = " + TomlValue(model.volatility).toml();
  if (model.reversion) m += ", reversion = " + TomlValue(*model.reversion).toml();
  keys.emplace_back("model", TomlValue::Raw(m + " }"));
  return Entry("pool", keys);
}

ScenarioBuilder& ScenarioBuilder::SetPrice(std::string_view at, std::string_view pool,
                                           double price) {
  return Entry("action", {{"at", at}, {"kind", "set_price"}, {"pool", pool}, {"price", price}});
}

ScenarioBuilder& ScenarioBuilder::SetCapacity(std::string_view at, std::string_view pool,
                                              int64_t capacity) {
  return Entry("action",
               {{"at", at}, {"kind", "set_capacity"}, {"pool", pool}, {"capacity", capacity}});
}

ScenarioBuilder& ScenarioBuilder::Entry(std::string_view array, const TomlTable& keys) {
  body_ += "[[";
  body_ += array;
  body_ += "]]\n";
  for (const auto& [k, v] : keys) body_ += k + " = " + v.toml() + "\n";
  return *this;
}

std::string ScenarioBuilder::Text() const {
  std::string out;
  for (const auto& [k, v] : top_) out += k + " = " + v.toml() + "\n";
  return out + body_;
}

Result<std::unique_ptr<World>> ScenarioBuilder::Load(std::string_view source_name,
                                                     const ScenarioOptions& options) const {
  return LoadScenarioText(Text(), source_name, options);
}

}  // namespace lastcall::mock
