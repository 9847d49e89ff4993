#include "agent/runtime/config_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <span>
#include <sstream>
#include <vector>

#define TOML_ENABLE_FORMATTERS 0
// toml++ 3.3 asserts on "[" followed by a newline or NUL (parse_key: "is_bare_key_character(*cp)
// || is_string_delimiter(*cp)"), aborting debug and sanitizer builds, although the code after
// the assertion reports that very input as a clean parse error (as release builds do). Its
// assertions are therefore compiled out in every preset, as NDEBUG does in release.
// Upstream (marzer/tomlplusplus, parser.inl parse_key): the assertion should be an error path.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include "agent/base/config_fields.h"
#include "agent/base/endpoint_url.h"
#include "agent/base/log.h"
#include "common/escape.h"
#include "common/files.h"
#include "common/time_format.h"
#include "common/toml_prevalidate.h"

namespace lastcall {
namespace {

std::string_view TypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

// Walks one parsed document; the first error wins (nothing is half-applied because the caller
// only sees the Config when every key was accepted).
class Parser {
 public:
  explicit Parser(std::string path) : path_(std::move(path)) {}

  Status Err(const toml::source_region& where, std::string_view what) const {
    return InvalidArgument(path_ + ":" + std::to_string(where.begin.line) + ":" +
                           std::to_string(where.begin.column) + ": " + std::string(what));
  }
  Status Err(const toml::node& n, std::string_view what) const { return Err(n.source(), what); }

  // Rejects keys not in `allowed`, with the closest allowed key as a suggestion.
  Status CheckKeys(const toml::table& t, std::string_view section,
                   const std::vector<std::string_view>& allowed) const {
    for (auto&& [key, node] : t) {
      (void)node;
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string msg = "unknown key " + Quote(key.str());
      msg += section.empty() ? " at the top level" : " in [" + std::string(section) + "]";
      std::string_view best;
      size_t best_d = std::string::npos;
      for (std::string_view a : allowed) {
        size_t d = EditDistance(key.str(), a);
        if (d < best_d) best_d = d, best = a;
      }
      if (!best.empty() && best_d <= std::max<size_t>(2, best.size() / 3)) {
        msg += "; did you mean " + Quote(best) + "?";
      } else {
        msg += "; known keys:";
        for (std::string_view a : allowed) msg += " " + std::string(a);
      }
      return Err(key.source(), msg);
    }
    return Status::Ok();
  }

  Status WrongType(const toml::node& n, std::string_view name, std::string_view expected) const {
    return Err(n, std::string(name) + " must be " + std::string(expected) + ", got " +
                      std::string(TypeName(n.type())));
  }

  Status GetString(const toml::table& t, std::string_view key, std::string_view name,
                   std::string* out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) return WrongType(*n, name, "a string");
    *out = n->as_string()->get();
    return Status::Ok();
  }

  Status GetBool(const toml::table& t, std::string_view key, std::string_view name,
                 bool* out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_boolean()) return WrongType(*n, name, "a boolean (true or false)");
    *out = n->as_boolean()->get();
    return Status::Ok();
  }

  Status GetDouble(const toml::table& t, std::string_view key, std::string_view name, double lo,
                   double hi, double* out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    double v;
    if (n->is_floating_point()) {
      v = n->as_floating_point()->get();
    } else if (n->is_integer()) {
      v = static_cast<double>(n->as_integer()->get());
    } else {
      return WrongType(*n, name, "a number");
    }
    if (!(v >= lo && v <= hi)) {
      std::ostringstream m;
      m << name << " must be between " << lo << " and " << hi << ", got " << v;
      return Err(*n, m.str());
    }
    *out = v;
    return Status::Ok();
  }

  Status GetInt(const toml::table& t, std::string_view key, std::string_view name, int64_t lo,
                int64_t hi, size_t* out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_integer()) return WrongType(*n, name, "an integer");
    int64_t v = n->as_integer()->get();
    if (v < lo || v > hi) {
      return Err(*n, std::string(name) + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi) + ", got " + std::to_string(v));
    }
    *out = static_cast<size_t>(v);
    return Status::Ok();
  }

  // Durations are strings with units ("2s", "100ms"); [lo, hi] inclusive.
  Status GetDuration(const toml::table& t, std::string_view key, std::string_view name, Duration lo,
                     Duration hi, Duration* out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) {
      return WrongType(*n, name, "a duration string like \"2s\" or \"100ms\"");
    }
    const std::string& s = n->as_string()->get();
    Result<Duration> d = ParseDuration(s);
    if (!d.ok()) return Err(*n, std::string(name) + ": " + d.status().message());
    if (*d < lo || *d > hi) {
      return Err(*n, std::string(name) + " must be between " + FormatDuration(lo) + " and " +
                         FormatDuration(hi) + ", got " + Quote(s));
    }
    *out = *d;
    return Status::Ok();
  }

  Status GetAbsolutePath(const toml::table& t, std::string_view key, std::string_view name,
                         bool allow_empty, std::string* out) const {
    std::string v = *out;
    LASTCALL_RETURN_IF_ERROR(GetString(t, key, name, &v));
    if (const toml::node* n = t.get(key)) {
      if (!(allow_empty && v.empty()) && (v.empty() || v[0] != '/')) {
        return Err(*n, std::string(name) + " must be an absolute path, got " + Quote(v));
      }
      // A NUL would cut the path short at the first system call; a newline breaks every
      // log line and status file that names it.
      if (std::any_of(v.begin(), v.end(), [](char ch) {
            return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
          })) {
        return Err(*n, std::string(name) + " must not contain control characters, got " + Quote(v));
      }
      if (v.size() >= 4096) return Err(*n, std::string(name) + " is longer than PATH_MAX");
    }
    *out = v;
    return Status::Ok();
  }

  // An http:// or https:// URL with a host; `what` says what else may follow it.
  Status GetUrl(const toml::table& t, std::string_view key, std::string_view name,
                std::string_view what, std::string* out) const {
    std::string v = *out;
    LASTCALL_RETURN_IF_ERROR(GetString(t, key, name, &v));
    if (const toml::node* n = t.get(key)) {
      size_t host_at = v.rfind("http://", 0) == 0 ? 7 : v.rfind("https://", 0) == 0 ? 8 : 0;
      if (host_at == 0 || v.size() <= host_at || v[host_at] == '/') {
        return Err(*n, std::string(name) + " must be an http:// or https:// URL with a host" +
                           std::string(what) + ", got " + Quote(v));
      }
      // The same parse the daemon's HTTP client relies on: what passes here is usable there.
      Result<EndpointUrl> url = ParseEndpointUrl(v);
      if (!url.ok()) return Err(*n, std::string(name) + ": " + url.status().message());
    }
    *out = v;
    return Status::Ok();
  }

  const toml::table* SubTable(const toml::table& t, std::string_view key, Status* st) const {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) {
      *st = WrongType(*n, key, "a table ([" + std::string(key) + "])");
      return nullptr;
    }
    return n->as_table();
  }

  // The whole document, in file order: top-level keys, the [section]s of ConfigFields(), then
  // the [[hook]] tables.
  Status Parse(const toml::table& root, Config* c) {
    std::vector<std::string_view> sections(ConfigSections().begin(), ConfigSections().end());
    sections.push_back("hook");
    LASTCALL_RETURN_IF_ERROR(CheckKeys(root, "", KeysOf("", sections)));
    LASTCALL_RETURN_IF_ERROR(ParseFields(root, "", c));
    for (std::string_view section : ConfigSections()) {
      Status st;
      const toml::table* t = SubTable(root, section, &st);
      LASTCALL_RETURN_IF_ERROR(st);
      if (!t) continue;
      const bool hooks = section == "hooks";
      LASTCALL_RETURN_IF_ERROR(CheckKeys(*t, section, KeysOf(section, hooks ? kPolicyKey : kNone)));
      LASTCALL_RETURN_IF_ERROR(ParseFields(*t, section, c));
      if (section == "poll") LASTCALL_RETURN_IF_ERROR(CheckPoll(*t, c->poll));
      if (hooks) LASTCALL_RETURN_IF_ERROR(ParsePolicies(*t, &c->hooks));
    }
    if (const toml::node* n = root.get("hook")) {
      LASTCALL_RETURN_IF_ERROR(ParseHookSpecs(*n, &c->hook_specs));
    }
    return Status::Ok();
  }

  // The rows of `section` plus the sub-tables it may hold, in the order messages list them.
  static std::vector<std::string_view> KeysOf(std::string_view section,
                                              std::span<const std::string_view> tables) {
    std::vector<std::string_view> keys;
    for (const ConfigField* f : FieldsOf(section)) keys.push_back(f->key);
    keys.insert(keys.end(), tables.begin(), tables.end());
    return keys;
  }
  static constexpr std::string_view kPolicyKeyArray[] = {"policy"};
  static constexpr std::span<const std::string_view> kPolicyKey = kPolicyKeyArray;
  static constexpr std::span<const std::string_view> kNone = {};

  Status ParseFields(const toml::table& t, std::string_view section, Config* c) const {
    for (const ConfigField* f : FieldsOf(section)) {
      const std::string name = f->Name();
      LASTCALL_RETURN_IF_ERROR(std::visit(
          [&](const auto& field) { return ParseField(t, f->key, name, field, c); }, f->value));
    }
    return Status::Ok();
  }

  Status ParseField(const toml::table& t, std::string_view key, std::string_view name,
                    const StringField& f, Config* c) const {
    std::string* out = f.ref(*c);
    switch (f.rule) {
      case StringRule::kAny:
        return GetString(t, key, name, out);
      case StringRule::kAbsolutePath:
      case StringRule::kAbsolutePathOrEmpty:
        return GetAbsolutePath(t, key, name, f.rule == StringRule::kAbsolutePathOrEmpty, out);
      case StringRule::kEndpoint:
        return GetUrl(t, key, name, " (a path prefix is allowed)", out);
      case StringRule::kUrlOrEmpty:
        LASTCALL_RETURN_IF_ERROR(GetString(t, key, name, out));
        if (out->empty()) return Status::Ok();
        return GetUrl(t, key, name, " (or \"\" for none)", out);
      case StringRule::kLogLevel:
        return GetLogLevel(t, key, name, out);
      case StringRule::kLoopbackListenOrEmpty:
        return GetLoopbackListen(t, key, name, out);
    }
    return Status::Ok();
  }
  Status ParseField(const toml::table& t, std::string_view key, std::string_view name,
                    const BoolField& f, Config* c) const {
    return GetBool(t, key, name, f.ref(*c));
  }
  Status ParseField(const toml::table& t, std::string_view key, std::string_view name,
                    const DurationField& f, Config* c) const {
    return GetDuration(t, key, name, f.min, f.max, f.ref(*c));
  }
  Status ParseField(const toml::table& t, std::string_view key, std::string_view name,
                    const CountField& f, Config* c) const {
    return GetInt(t, key, name, static_cast<int64_t>(f.min), static_cast<int64_t>(f.max),
                  f.ref(*c));
  }
  Status ParseField(const toml::table& t, std::string_view key, std::string_view name,
                    const FractionField& f, Config* c) const {
    return GetDouble(t, key, name, f.min, f.max, f.ref(*c));
  }
  template <typename E>
  Status ParseField(const toml::table& t, std::string_view key, std::string_view name,
                    const EnumField<E>& f, Config* c) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) return WrongType(*n, name, "a string");
    const std::string& v = n->as_string()->get();
    std::string choices;
    for (const auto& [value, value_name] : f.names) {
      if (value_name == v) {
        *f.ref(*c) = value;
        return Status::Ok();
      }
      choices += (choices.empty() ? "" : ", ") + Quote(value_name);
    }
    return Err(*n, std::string(name) + " must be one of " + choices + ", got " + Quote(v));
  }

  Status GetLogLevel(const toml::table& t, std::string_view key, std::string_view name,
                     std::string* out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) return WrongType(*n, name, "a string");
    const std::string& v = n->as_string()->get();
    if (!ParseLogLevel(v)) {
      return Err(*n, std::string(name) + " must be one of debug, info, notice, warning, err; got " +
                         Quote(v));
    }
    *out = v;
    return Status::Ok();
  }

  Status GetLoopbackListen(const toml::table& t, std::string_view key, std::string_view name,
                           std::string* out) const {
    LASTCALL_RETURN_IF_ERROR(GetString(t, key, name, out));
    const toml::node* n = t.get(key);
    if (!n || out->empty()) return Status::Ok();
    // Only loopback: the endpoint has no authentication and tells an attacker when the
    // instance is about to go away. Remote scraping goes through node_exporter's textfile.
    Result<ListenAddress> addr = ParseLoopbackListenAddress(*out);
    if (!addr.ok()) {
      return Err(*n, std::string(name) + " " + addr.status().message() +
                         "; use metrics.textfile with node_exporter to export remotely");
    }
    return Status::Ok();
  }

  // Cross-field rules are reported at whichever of the two keys the file sets.
  Status CheckPoll(const toml::table& t, const PollOptions& p) const {
    auto where = [&](std::string_view a, std::string_view b) -> const toml::node* {
      if (const toml::node* n = t.get(a)) return n;
      return t.get(b);
    };
    if (p.request_timeout >= p.interval) {
      return Err(*where("request_timeout", "interval"),
                 "poll.request_timeout (" + FormatDuration(p.request_timeout) +
                     ") must be less than poll.interval (" + FormatDuration(p.interval) +
                     "), or a hung request would delay the next poll");
    }
    if (p.max_backoff < p.interval) {
      return Err(*where("max_backoff", "interval"),
                 "poll.max_backoff (" + FormatDuration(p.max_backoff) +
                     ") must be at least poll.interval (" + FormatDuration(p.interval) + ")");
    }
    return Status::Ok();
  }
  Status ParseKindList(const toml::node& n, std::string_view name,
                       std::vector<NoticeKind>* out) const {
    const toml::array* arr = n.as_array();
    if (!arr) return WrongType(n, name, "an array of notice kinds");
    out->clear();
    for (const toml::node& e : *arr) {
      if (!e.is_string()) return WrongType(e, name, "an array of strings");
      auto k = ParseNoticeKind(e.as_string()->get());
      if (!k) return Err(e, BadKind(name, e.as_string()->get()));
      out->push_back(*k);
    }
    return Status::Ok();
  }

  static std::string BadKind(std::string_view name, std::string_view v) {
    return std::string(name) + ": unknown notice kind " + Quote(v) +
           "; kinds are interruption, release, rebalance, maintenance, preempt, lifecycle";
  }
  static std::string BadPhase(std::string_view name, std::string_view v) {
    return std::string(name) + ": unknown phase " + Quote(v) +
           "; phases are checkpoint, drain, notify, resume";
  }

  // [hooks.policy.<kind>] tables: which phases a kind runs, and how long before its deadline.
  Status ParsePolicies(const toml::table& t, HookOptions* h) const {
    Status st;
    const toml::table* pol = SubTable(t, "policy", &st);
    LASTCALL_RETURN_IF_ERROR(st);
    if (!pol) return Status::Ok();
    for (auto&& [key, node] : *pol) {
      std::string kname = "hooks.policy." + std::string(key.str());
      auto kind = ParseNoticeKind(key.str());
      if (!kind) return Err(key.source(), BadKind("hooks.policy", key.str()));
      if (!node.is_table()) return WrongType(node, kname, "a table");
      const toml::table& pt = *node.as_table();
      LASTCALL_RETURN_IF_ERROR(CheckKeys(pt, kname, {"phases", "lead"}));
      PhasePolicy& p = h->policies[*kind];
      if (const toml::node* ph = pt.get("phases")) {
        LASTCALL_RETURN_IF_ERROR(ParsePhaseList(*ph, kname + ".phases", &p.phases));
      }
      LASTCALL_RETURN_IF_ERROR(
          GetDuration(pt, "lead", kname + ".lead", Duration::zero(), hours(24 * 30), &p.lead));
    }
    return Status::Ok();
  }

  Status ParsePhaseList(const toml::node& n, const std::string& name,
                        std::vector<HookPhase>* out) const {
    const toml::array* arr = n.as_array();
    if (!arr) return WrongType(n, name, "an array of phase names");
    out->clear();
    for (const toml::node& e : *arr) {
      if (!e.is_string()) return WrongType(e, name, "an array of strings");
      auto phase = ParseHookPhase(e.as_string()->get());
      if (!phase) return Err(e, BadPhase(name, e.as_string()->get()));
      if (std::find(out->begin(), out->end(), *phase) != out->end()) {
        return Err(e, name + " lists " + Quote(e.as_string()->get()) + " twice");
      }
      out->push_back(*phase);
    }
    return Status::Ok();
  }

  Status ParseHookSpecs(const toml::node& n, std::vector<HookSpec>* out) const {
    const toml::array* arr = n.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      return WrongType(n, "hook", "an array of tables ([[hook]])");
    }
    std::set<std::string> names;
    for (const toml::node& e : *arr) {
      HookSpec h;
      LASTCALL_RETURN_IF_ERROR(ParseHookSpec(*e.as_table(), &h));
      if (!names.insert(h.name).second) {
        return Err(*e.as_table()->get("name"),
                   "hook.name " + Quote(h.name) + " is used by an earlier [[hook]]");
      }
      out->push_back(std::move(h));
    }
    return Status::Ok();
  }

  Status ParseHookSpec(const toml::table& t, HookSpec* h) const {
    LASTCALL_RETURN_IF_ERROR(
        CheckKeys(t, "[hook]", {"name", "phase", "command", "timeout", "kinds", "env"}));
    h->source = path_ + ":" + std::to_string(t.source().begin.line);
    const toml::node* name = t.get("name");
    if (!name) return Err(t, "[[hook]] needs a name");
    if (!name->is_string()) return WrongType(*name, "hook.name", "a string");
    h->name = name->as_string()->get();
    if (h->name.empty() || h->name.find_first_of("/ \t\n") != std::string::npos) {
      return Err(*name,
                 "hook.name must be non-empty without spaces or slashes, got " + Quote(h->name));
    }
    const toml::node* phase = t.get("phase");
    if (!phase) return Err(t, "[[hook]] " + Quote(h->name) + " needs a phase");
    if (!phase->is_string()) return WrongType(*phase, "hook.phase", "a string");
    auto p = ParseHookPhase(phase->as_string()->get());
    if (!p) return Err(*phase, BadPhase("hook.phase", phase->as_string()->get()));
    h->phase = *p;
    LASTCALL_RETURN_IF_ERROR(ParseHookCommand(t, h));
    if (t.get("timeout")) {
      Duration d{};
      LASTCALL_RETURN_IF_ERROR(GetDuration(t, "timeout", "hook.timeout", seconds(1), hours(6), &d));
      h->timeout = d;
    }
    if (const toml::node* k = t.get("kinds")) {
      LASTCALL_RETURN_IF_ERROR(ParseKindList(*k, "hook.kinds", &h->kinds));
    }
    if (const toml::node* env = t.get("env")) LASTCALL_RETURN_IF_ERROR(ParseHookEnv(*env, h));
    return Status::Ok();
  }

  Status ParseHookCommand(const toml::table& t, HookSpec* h) const {
    const toml::node* cmd = t.get("command");
    if (!cmd) return Err(t, "[[hook]] " + Quote(h->name) + " needs a command");
    if (cmd->is_string()) {
      h->command.push_back(cmd->as_string()->get());
    } else if (const toml::array* ca = cmd->as_array()) {
      for (const toml::node& a : *ca) {
        if (!a.is_string()) return WrongType(a, "hook.command", "an array of strings");
        h->command.push_back(a.as_string()->get());
      }
    } else {
      return WrongType(*cmd, "hook.command", "a string or an array of strings");
    }
    if (h->command.empty() || h->command[0].empty() || h->command[0][0] != '/') {
      return Err(*cmd,
                 "hook.command must start with an absolute path (hooks do not search "
                 "PATH), got " +
                     Quote(h->command.empty() ? "" : h->command[0]));
    }
    return Status::Ok();
  }

  Status ParseHookEnv(const toml::node& env, HookSpec* h) const {
    const toml::table* et = env.as_table();
    if (!et) return WrongType(env, "hook.env", "a table of strings");
    for (auto&& [k, v] : *et) {
      if (!v.is_string()) return WrongType(v, "hook.env." + std::string(k.str()), "a string");
      if (k.str().rfind("LASTCALL_", 0) == 0) {
        return Err(k.source(), "hook.env may not set " + Quote(k.str()) +
                                   ": LASTCALL_* variables are set by lastcalld");
      }
      h->env[std::string(k.str())] = v.as_string()->get();
    }
    return Status::Ok();
  }

 private:
  std::string path_;
};

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string TomlDuration(Duration d) { return TomlString(FormatDuration(d)); }
std::string TomlBool(bool b) { return b ? "true" : "false"; }

std::string FormatValue(const StringField& f, const Config& c) {
  return TomlString(*f.ref(const_cast<Config&>(c)));
}
std::string FormatValue(const BoolField& f, const Config& c) {
  return TomlBool(*f.ref(const_cast<Config&>(c)));
}
std::string FormatValue(const DurationField& f, const Config& c) {
  return TomlDuration(*f.ref(const_cast<Config&>(c)));
}
std::string FormatValue(const CountField& f, const Config& c) {
  return std::to_string(*f.ref(const_cast<Config&>(c)));
}
std::string FormatValue(const FractionField& f, const Config& c) {
  std::ostringstream o;
  o << *f.ref(const_cast<Config&>(c));
  return o.str();
}
template <typename E>
std::string FormatValue(const EnumField<E>& f, const Config& c) {
  const E value = *f.ref(const_cast<Config&>(c));
  for (const auto& [v, name] : f.names) {
    if (v == value) return TomlString(name);
  }
  return TomlString("unknown");
}

// One "key = value" line per row of `section` (FieldRef needs a mutable Config; the casts
// above only read).
void FormatFields(std::ostringstream& o, std::string_view section, const Config& c) {
  for (const ConfigField* f : FieldsOf(section)) {
    o << f->key << " = "
      << std::visit([&](const auto& field) { return FormatValue(field, c); }, f->value) << "\n";
  }
}

void FormatPolicies(std::ostringstream& o, const HookOptions& h) {
  for (const auto& [kind, policy] : h.policies) {
    o << "\n[hooks.policy." << NoticeKindName(kind) << "]\nphases = [";
    for (size_t i = 0; i < policy.phases.size(); ++i) {
      o << (i ? ", " : "") << TomlString(HookPhaseName(policy.phases[i]));
    }
    o << "]\nlead = " << TomlDuration(policy.lead) << "\n";
  }
}

void FormatHookSpec(std::ostringstream& o, const HookSpec& h) {
  o << "\n[[hook]]\nname = " << TomlString(h.name)
    << "\nphase = " << TomlString(HookPhaseName(h.phase)) << "\ncommand = [";
  for (size_t i = 0; i < h.command.size(); ++i) o << (i ? ", " : "") << TomlString(h.command[i]);
  o << "]\n";
  if (h.timeout) o << "timeout = " << TomlDuration(*h.timeout) << "\n";
  if (!h.kinds.empty()) {
    o << "kinds = [";
    for (size_t i = 0; i < h.kinds.size(); ++i) {
      o << (i ? ", " : "") << TomlString(NoticeKindName(h.kinds[i]));
    }
    o << "]\n";
  }
  if (!h.env.empty()) {
    o << "env = {";
    bool first = true;
    for (const auto& [k, v] : h.env) {
      o << (first ? " " : ", ") << TomlString(k) << " = " << TomlString(v);
      first = false;
    }
    o << " }\n";
  }
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

Result<Config> ParseConfig(std::string_view text, const std::string& path) {
  Config config;
  config.path = path;
  Parser parser(path);
  try {
    // toml++ 3.3 has undefined behaviour on some inputs toml::parse would otherwise see.
    LASTCALL_RETURN_IF_ERROR(PrevalidateToml(text, path));
    toml::table root = toml::parse(text, path);
    Status st = parser.Parse(root, &config);
    if (!st.ok()) return st;
  } catch (const toml::parse_error& e) {
    return parser.Err(e.source(), std::string(e.description()));
  } catch (const std::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path, bool must_exist) {
  // A config file is small; a bound keeps a wrong path (a device, a FIFO, a huge log) from
  // hurting. The config may be a symlink (/etc/lastcall/lastcalld.toml managed elsewhere).
  constexpr size_t kMaxBytes = 1 << 20;
  Result<std::string> text = ReadFileBounded(path, kMaxBytes, {.follow_symlinks = true});
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound && !must_exist) {
      Config config;
      config.path = path + " (not present: defaults)";
      return config;
    }
    std::string msg = path + ": cannot read the config file: " + text.status().message();
    return text.status().code() == StatusCode::kNotFound ? NotFound(msg) : InvalidArgument(msg);
  }
  return ParseConfig(*text, path);
}

Result<Config> LoadConfig(const std::string& path) { return LoadConfigFile(path, true); }

std::string FormatConfig(const Config& c) {
  std::ostringstream o;
  FormatFields(o, "", c);
  for (std::string_view section : ConfigSections()) {
    o << "\n[" << section << "]\n";
    FormatFields(o, section, c);
    if (section == "hooks") FormatPolicies(o, c.hooks);
  }
  for (const HookSpec& h : c.hook_specs) FormatHookSpec(o, h);
  return o.str();
}

}  // namespace lastcall
