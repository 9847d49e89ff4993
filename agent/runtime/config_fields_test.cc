#include "agent/base/config_fields.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "agent/runtime/config_loader.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;

// Converts to any member type: counts an aggregate's members (T{AnyMember{}, ...} compiles
// for up to as many initializers as T has members).
struct AnyMember {
  template <typename T>
  operator T() const;  // NOLINT(google-explicit-constructor): only used unevaluated
};

template <typename T, typename... Init>
constexpr size_t MemberCount() {
  if constexpr (requires { T{Init{}..., AnyMember{}}; }) {
    return MemberCount<T, Init..., AnyMember>();
  } else {
    return sizeof...(Init);
  }
}

// A valid value other than the current one, so that every row can be moved off its default.
void ChangeStringField(const StringField& f, Config* c) {
  static const std::map<StringRule, std::string> kValues = {
      {StringRule::kAny, "lastcall"},
      {StringRule::kAbsolutePath, "/tmp/changed"},
      {StringRule::kAbsolutePathOrEmpty, "/tmp/changed.prom"},
      {StringRule::kEndpoint, "http://127.0.0.1:9/prefix"},
      {StringRule::kUrlOrEmpty, "http://127.0.0.1:3128"},
      {StringRule::kLogLevel, "debug"},
      {StringRule::kLoopbackListenOrEmpty, "127.0.0.1:9877"},
  };
  *f.ref(*c) = kValues.at(f.rule);
}

void Change(const ConfigField& field, Config* c) {
  std::visit(
      [&](const auto& f) {
        using F = std::decay_t<decltype(f)>;
        auto& v = *f.ref(*c);
        if constexpr (std::is_same_v<F, StringField>) {
          ChangeStringField(f, c);
        } else if constexpr (std::is_same_v<F, BoolField>) {
          v = !v;
        } else if constexpr (std::is_same_v<F, FractionField>) {
          v = v == f.max ? f.min : f.max;
        } else if constexpr (std::is_same_v<F, DurationField>) {
          // One millisecond up keeps poll.request_timeout < poll.interval <= poll.max_backoff.
          v = v == f.max ? v - milliseconds(1) : v + milliseconds(1);
        } else if constexpr (std::is_same_v<F, CountField>) {
          v = v == f.max ? v - 1 : v + 1;
        } else {  // EnumField: the next name
          for (size_t i = 0; i < f.names.size(); ++i) {
            if (f.names[i].first == v) {
              v = f.names[(i + 1) % f.names.size()].first;
              break;
            }
          }
        }
      },
      field.value);
}

size_t RowsOf(std::string_view section) { return FieldsOf(section).size(); }

// A member added to a struct of config.h without a row in ConfigFields() would be parsed from
// no key, printed by no --verbose and compared by no reload: this count catches it.
TEST(ConfigFields, EveryMemberOfTheConfigStructsHasARow) {
  EXPECT_EQ(MemberCount<Config>(), RowsOf("") + kConfigNonFieldMembers);
  EXPECT_EQ(MemberCount<PollOptions>(), RowsOf("poll"));
  EXPECT_EQ(MemberCount<AwsOptions>(), RowsOf("aws"));
  EXPECT_EQ(MemberCount<AlibabaOptions>(), RowsOf("alibaba"));
  EXPECT_EQ(MemberCount<DetectOptions>(), RowsOf("detect"));
  EXPECT_EQ(MemberCount<HookOptions>(), RowsOf("hooks") + kHookOptionsNonFieldMembers);
  EXPECT_EQ(MemberCount<MetricsOptions>(), RowsOf("metrics"));
  // Every row belongs to a known section, and no key is listed twice.
  std::set<std::string> names;
  size_t in_sections = RowsOf("");
  for (std::string_view s : ConfigSections()) in_sections += RowsOf(s);
  EXPECT_EQ(in_sections, ConfigFields().size());
  for (const ConfigField& f : ConfigFields())
    EXPECT_TRUE(names.insert(f.Name()).second) << f.Name();
}

// Each row points at its own member: changing one row changes the Config, and changes no
// other row.
TEST(ConfigFields, EachRowReachesADifferentMember) {
  const Config def;
  for (const ConfigField& f : ConfigFields()) {
    Config c;
    Change(f, &c);
    EXPECT_NE(c, def) << f.Name();
    for (const ConfigField& other : ConfigFields()) {
      if (&other == &f) continue;
      Config probe = def;
      Change(other, &probe);
      EXPECT_NE(probe, c) << f.Name() << " and " << other.Name() << " change the same member";
    }
  }
}

// --check-config --verbose prints FormatConfig: every row appears as "key = " under its
// [section], and what it prints parses back to the same Config with every row off its
// default (so parsing reads every row too).
TEST(ConfigFields, EveryRowIsPrintedAndParsedBack) {
  Config changed;
  changed.path = "t.toml";
  for (const ConfigField& f : ConfigFields()) Change(f, &changed);
  const std::string text = FormatConfig(changed);
  std::istringstream lines(text);
  std::set<std::string> printed;
  std::string line, section;
  while (std::getline(lines, line)) {
    if (line.starts_with("[")) section = line.substr(1, line.size() - 2);
    size_t eq = line.find(" = ");
    if (eq != std::string::npos)
      printed.insert((section.empty() ? "" : section + ".") + line.substr(0, eq));
  }
  for (const ConfigField& f : ConfigFields()) EXPECT_TRUE(printed.count(f.Name())) << f.Name();

  Result<Config> again = ParseConfig(text, "t.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  EXPECT_EQ(*again, changed) << text;
}

// An empty file gives exactly the defaults of config.h (no row has a default of its own).
TEST(ConfigFields, EmptyFileGivesTheStructDefaults) {
  Result<Config> c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Config def;
  def.path = "t.toml";
  EXPECT_EQ(*c, def);
}

// Reload rebuilds the provider exactly when a provider row changed: each provider row is seen,
// and a change to any other row is not mistaken for one.
TEST(ConfigFields, ProviderSettingsChangedSeesEveryProviderRowAndNoOther) {
  const Config def;
  size_t provider_rows = 0;
  for (const ConfigField& f : ConfigFields()) {
    Config c;
    Change(f, &c);
    EXPECT_EQ(ProviderSettingsChanged(def, c), f.provider_setting) << f.Name();
    provider_rows += f.provider_setting;
  }
  EXPECT_EQ(provider_rows, 16u);  // provider, [aws] 8, [alibaba] 3, [detect] 2, poll 2
  Config hooks_only;
  HookSpec hook;
  hook.name = "h";
  hook.command = {"/bin/true"};
  hooks_only.hook_specs.push_back(hook);
  EXPECT_FALSE(ProviderSettingsChanged(def, hooks_only));
}

TEST(ConfigFields, EnumNames) {
  EXPECT_EQ(ProviderChoiceName(ProviderChoice::kAlibaba), "alibaba");
  EXPECT_EQ(TokenModeName(TokenMode::kRequired), "required");
}

}  // namespace
}  // namespace lastcall
