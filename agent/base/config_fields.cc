#include "agent/base/config_fields.h"

#include <array>

namespace lastcall {
namespace {

template <auto Member>
auto* Top(Config& c) {
  return &(c.*Member);
}
template <auto Section, auto Member>
auto* In(Config& c) {
  return &((c.*Section).*Member);
}

constexpr std::array<std::pair<ProviderChoice, std::string_view>, 3> kProviderNames = {{
    {ProviderChoice::kAuto, "auto"},
    {ProviderChoice::kAws, "aws"},
    {ProviderChoice::kAlibaba, "alibaba"},
}};
constexpr std::array<std::pair<TokenMode, std::string_view>, 3> kTokenModeNames = {{
    {TokenMode::kAuto, "auto"},
    {TokenMode::kRequired, "required"},
    {TokenMode::kOff, "off"},
}};

constexpr std::array<std::string_view, 6> kSections = {"poll",   "aws",   "alibaba",
                                                       "detect", "hooks", "metrics"};

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
constexpr Duration kZero = Duration::zero();
constexpr bool kProvider = true;  // provider_setting
constexpr bool kOther = false;

// The order is the file's: it is the order of --verbose output and of the checks (the first
// error in a file is the one reported).
const ConfigField kFields[] = {
    {"", "provider", kProvider, EnumField<ProviderChoice>{&Top<&Config::provider>, kProviderNames}},
    {"", "state_dir", kOther, StringField{&Top<&Config::state_dir>, StringRule::kAbsolutePath}},
    {"", "runtime_dir", kOther, StringField{&Top<&Config::runtime_dir>, StringRule::kAbsolutePath}},
    {"", "log_level", kOther, StringField{&Top<&Config::log_level>, StringRule::kLogLevel}},

    {"poll", "interval", kOther,
     DurationField{&In<&Config::poll, &PollOptions::interval>, milliseconds(100), hours(1)}},
    {"poll", "jitter", kOther, FractionField{&In<&Config::poll, &PollOptions::jitter>, 0.0, 0.5}},
    {"poll", "request_timeout", kProvider,
     DurationField{&In<&Config::poll, &PollOptions::request_timeout>, milliseconds(10),
                   minutes(1)}},
    {"poll", "max_backoff", kOther,
     DurationField{&In<&Config::poll, &PollOptions::max_backoff>, milliseconds(100), hours(1)}},
    {"poll", "clock_skew_threshold", kOther,
     DurationField{&In<&Config::poll, &PollOptions::clock_skew_threshold>, seconds(1), hours(24)}},
    {"poll", "withdraw_polls", kOther,
     CountField{&In<&Config::poll, &PollOptions::withdraw_polls>, 1, 1000}},
    {"poll", "withdraw_after", kOther,
     DurationField{&In<&Config::poll, &PollOptions::withdraw_after>, kZero, hours(1)}},
    {"poll", "clock_check_wait", kOther,
     DurationField{&In<&Config::poll, &PollOptions::clock_check_wait>, kZero, minutes(10)}},
    // "" (the default) is no proxy at all, whatever http_proxy says in the environment.
    {"poll", "proxy", kProvider,
     StringField{&In<&Config::poll, &PollOptions::proxy>, StringRule::kUrlOrEmpty}},

    {"aws", "endpoint", kProvider,
     StringField{&In<&Config::aws, &AwsOptions::endpoint>, StringRule::kEndpoint}},
    {"aws", "allow_imdsv1", kProvider, BoolField{&In<&Config::aws, &AwsOptions::allow_imdsv1>}},
    {"aws", "token_ttl", kProvider,
     DurationField{&In<&Config::aws, &AwsOptions::token_ttl>, seconds(1), hours(6)}},
    {"aws", "watch_instance_action", kProvider,
     BoolField{&In<&Config::aws, &AwsOptions::watch_instance_action>}},
    {"aws", "watch_termination_time", kProvider,
     BoolField{&In<&Config::aws, &AwsOptions::watch_termination_time>}},
    {"aws", "watch_rebalance", kProvider,
     BoolField{&In<&Config::aws, &AwsOptions::watch_rebalance>}},
    {"aws", "watch_scheduled_events", kProvider,
     BoolField{&In<&Config::aws, &AwsOptions::watch_scheduled_events>}},
    {"aws", "watch_lifecycle_state", kProvider,
     BoolField{&In<&Config::aws, &AwsOptions::watch_lifecycle_state>}},

    {"alibaba", "endpoint", kProvider,
     StringField{&In<&Config::alibaba, &AlibabaOptions::endpoint>, StringRule::kEndpoint}},
    {"alibaba", "token", kProvider,
     EnumField<TokenMode>{&In<&Config::alibaba, &AlibabaOptions::token>, kTokenModeNames}},
    {"alibaba", "token_ttl", kProvider,
     DurationField{&In<&Config::alibaba, &AlibabaOptions::token_ttl>, seconds(1), hours(6)}},

    {"detect", "dmi_dir", kProvider,
     StringField{&In<&Config::detect, &DetectOptions::dmi_dir>, StringRule::kAbsolutePath}},
    {"detect", "probe_timeout", kProvider,
     DurationField{&In<&Config::detect, &DetectOptions::probe_timeout>, milliseconds(10),
                   seconds(10)}},

    {"hooks", "dir", kOther,
     StringField{&In<&Config::hooks, &HookOptions::hooks_dir>, StringRule::kAbsolutePath}},
    {"hooks", "default_timeout", kOther,
     DurationField{&In<&Config::hooks, &HookOptions::default_timeout>, seconds(1), hours(6)}},
    {"hooks", "safety_margin", kOther,
     DurationField{&In<&Config::hooks, &HookOptions::safety_margin>, kZero, minutes(10)}},
    {"hooks", "kill_grace", kOther,
     DurationField{&In<&Config::hooks, &HookOptions::kill_grace>, milliseconds(100), minutes(5)}},
    {"hooks", "stop_timeout", kOther,
     DurationField{&In<&Config::hooks, &HookOptions::stop_timeout>, milliseconds(100), hours(1)}},
    {"hooks", "notify_timeout", kOther,
     DurationField{&In<&Config::hooks, &HookOptions::notify_timeout>, seconds(1), hours(1)}},
    {"hooks", "advisory_budget", kOther,
     DurationField{&In<&Config::hooks, &HookOptions::advisory_budget>, seconds(1), hours(24)}},
    {"hooks", "allowed_owner", kOther,
     StringField{&In<&Config::hooks, &HookOptions::allowed_owner>}},
    {"hooks", "max_output_bytes", kOther,
     CountField{&In<&Config::hooks, &HookOptions::max_output_bytes>, 1024, 16 * 1024 * 1024}},
    {"hooks", "max_concurrent", kOther,
     CountField{&In<&Config::hooks, &HookOptions::max_concurrent>, 1, 256}},

    {"metrics", "textfile", kOther,
     StringField{&In<&Config::metrics, &MetricsOptions::textfile>,
                 StringRule::kAbsolutePathOrEmpty}},
    {"metrics", "listen", kOther,
     StringField{&In<&Config::metrics, &MetricsOptions::listen>,
                 StringRule::kLoopbackListenOrEmpty}},
    {"metrics", "write_interval", kOther,
     DurationField{&In<&Config::metrics, &MetricsOptions::write_interval>, seconds(1), hours(1)}},
};

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

// Reading through a FieldRef needs a mutable Config; the value is only read.
bool SameValue(const ConfigField& f, const Config& a, const Config& b) {
  return std::visit(
      [&](const auto& field) {
        return *field.ref(const_cast<Config&>(a)) == *field.ref(const_cast<Config&>(b));
      },
      f.value);
}

}  // namespace

std::string ConfigField::Name() const {
  return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
}

std::span<const ConfigField> ConfigFields() { return kFields; }
std::span<const std::string_view> ConfigSections() { return kSections; }

std::vector<const ConfigField*> FieldsOf(std::string_view section) {
  std::vector<const ConfigField*> out;
  for (const ConfigField& f : kFields) {
    if (f.section == section) out.push_back(&f);
  }
  return out;
}

bool ProviderSettingsChanged(const Config& a, const Config& b) {
  for (const ConfigField& f : kFields) {
    if (f.provider_setting && !SameValue(f, a, b)) return true;
  }
  return false;
}

bool UsesHttps(const Config& c) {
  for (const ConfigField& f : kFields) {
    const auto* s = std::get_if<StringField>(&f.value);
    if (s == nullptr || (s->rule != StringRule::kEndpoint && s->rule != StringRule::kUrlOrEmpty)) {
      continue;
    }
    if (s->ref(const_cast<Config&>(c))->starts_with("https://")) return true;
  }
  return false;
}

std::string_view ProviderChoiceName(ProviderChoice p) { return NameOf(kProviderNames, p); }
std::string_view TokenModeName(TokenMode m) { return NameOf(kTokenModeNames, m); }

}  // namespace lastcall
