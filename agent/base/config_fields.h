// ConfigFields: the one list of lastcalld.toml's settings.
//
// Every scalar setting of Config (config.h) is one row here: its section and key, its type
// and range, and whether it shapes the provider. The config loader parses and range-checks
// through this table, `--check-config --verbose` prints through it (FormatConfig), and the
// daemon decides on reload whether the provider must be rebuilt through it
// (ProviderSettingsChanged). A setting added to config.h and to this table is therefore
// parsed, printed and compared; config_fields_test fails when a member of config.h's structs
// has no row. Defaults stay where they are written once: the member initializers in config.h.
// The two nested lists, [hooks.policy.<kind>] and [[hook]], have their own code in
// config_loader.cc (config_fields.cc lists them in kNestedMembers for the test).
//
// Thread-safety: the table is immutable; every function is pure.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "agent/base/config.h"

namespace lastcall {

// What a string setting must look like (the loader checks it and names the rule in errors).
enum class StringRule {
  kAny,
  kAbsolutePath,
  kAbsolutePathOrEmpty,
  kEndpoint,    // http:// or https:// URL with a host, a path prefix allowed
  kUrlOrEmpty,  // as kEndpoint, or "" for none
  kLogLevel,    // debug|info|notice|warning|err
  kLoopbackListenOrEmpty,
};

// A setting's place in a Config. A function rather than a member pointer because settings sit
// one struct deep (Config::poll.interval).
template <typename T>
using FieldRef = T* (*)(Config&);

struct StringField {
  FieldRef<std::string> ref;
  StringRule rule = StringRule::kAny;
};
struct BoolField {
  FieldRef<bool> ref;
};
struct DurationField {  // written as "2s", "100ms"; [min, max] inclusive
  FieldRef<Duration> ref;
  Duration min, max;
};
struct CountField {
  FieldRef<size_t> ref;
  size_t min, max;
};
struct FractionField {
  FieldRef<double> ref;
  double min, max;
};
template <typename E>
struct EnumField {
  FieldRef<E> ref;
  std::span<const std::pair<E, std::string_view>> names;  // in the order errors list them
};

using FieldValue = std::variant<StringField, BoolField, DurationField, CountField, FractionField,
                                EnumField<ProviderChoice>, EnumField<TokenMode>>;

struct ConfigField {
  std::string_view section;  // "" for the top level, else "poll", "aws", ...
  std::string_view key;
  // Changing it needs a new provider (Daemon::Reload): endpoints, tokens, monitors, detection
  // and the HTTP settings the metadata session was built with.
  bool provider_setting;
  FieldValue value;

  // "poll.interval"; "provider" at the top level. Used in every message about the setting.
  std::string Name() const;
};

// Every row, in file order: the top level first, then the sections of ConfigSections().
std::span<const ConfigField> ConfigFields();
// The [section] tables in file order (the top level, "", is not one of them).
std::span<const std::string_view> ConfigSections();

// The rows of one section, in file order.
std::vector<const ConfigField*> FieldsOf(std::string_view section);

// True when a setting with provider_setting differs (Daemon::Reload then builds a provider).
bool ProviderSettingsChanged(const Config& a, const Config& b);

// True when a URL setting (an endpoint, the proxy) is https:// (the HTTP transport then sets
// up TLS in full; see InitHttpTransport).
bool UsesHttps(const Config& c);

// Name tables of the enum settings (also used by the loader's messages).
std::string_view ProviderChoiceName(ProviderChoice p);
std::string_view TokenModeName(TokenMode m);

// Members of config.h's structs that are not rows: Config::path (where it came from), the
// section structs themselves, hooks.policy and hook_specs (nested lists with code of their
// own). config_fields_test counts members against rows plus these.
inline constexpr size_t kConfigNonFieldMembers = 1 + 6 + 1;  // path, sections, hook_specs
inline constexpr size_t kHookOptionsNonFieldMembers = 1;     // policies

}  // namespace lastcall
