#include "agent/runtime/config_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
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
                   std::initializer_list<std::string_view> allowed) const {
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

  Status GetEndpoint(const toml::table& t, std::string_view name, std::string* out) const {
    return GetUrl(t, "endpoint", name, " (a path prefix is allowed)", out);
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

  Status Parse(const toml::table& root, Config* c) {
    LASTCALL_RETURN_IF_ERROR(CheckKeys(root, "",
                                       {"provider", "state_dir", "runtime_dir", "log_level", "poll",
                                        "aws", "alibaba", "detect", "hooks", "hook", "metrics"}));
    if (const toml::node* n = root.get("provider")) {
      if (!n->is_string()) return WrongType(*n, "provider", "a string");
      const std::string& v = n->as_string()->get();
      if (v == "auto") {
        c->provider = ProviderChoice::kAuto;
      } else if (v == "aws") {
        c->provider = ProviderChoice::kAws;
      } else if (v == "alibaba") {
        c->provider = ProviderChoice::kAlibaba;
      } else {
        return Err(*n, "provider must be one of \"auto\", \"aws\", \"alibaba\", got " + Quote(v));
      }
    }
    LASTCALL_RETURN_IF_ERROR(GetAbsolutePath(root, "state_dir", "state_dir", false, &c->state_dir));
    LASTCALL_RETURN_IF_ERROR(
        GetAbsolutePath(root, "runtime_dir", "runtime_dir", false, &c->runtime_dir));
    if (const toml::node* n = root.get("log_level")) {
      if (!n->is_string()) return WrongType(*n, "log_level", "a string");
      const std::string& v = n->as_string()->get();
      if (!ParseLogLevel(v)) {
        return Err(*n,
                   "log_level must be one of debug, info, notice, warning, err; got " + Quote(v));
      }
      c->log_level = v;
    }

    Status st;
    if (const toml::table* t = SubTable(root, "poll", &st)) {
      LASTCALL_RETURN_IF_ERROR(ParsePoll(*t, &c->poll));
    }
    LASTCALL_RETURN_IF_ERROR(st);
    if (const toml::table* t = SubTable(root, "aws", &st)) {
      LASTCALL_RETURN_IF_ERROR(ParseAws(*t, &c->aws));
    }
    LASTCALL_RETURN_IF_ERROR(st);
    if (const toml::table* t = SubTable(root, "alibaba", &st)) {
      LASTCALL_RETURN_IF_ERROR(ParseAlibaba(*t, &c->alibaba));
    }
    LASTCALL_RETURN_IF_ERROR(st);
    if (const toml::table* t = SubTable(root, "detect", &st)) {
      LASTCALL_RETURN_IF_ERROR(CheckKeys(*t, "detect", {"dmi_dir", "probe_timeout"}));
      LASTCALL_RETURN_IF_ERROR(
          GetAbsolutePath(*t, "dmi_dir", "detect.dmi_dir", false, &c->detect.dmi_dir));
      LASTCALL_RETURN_IF_ERROR(GetDuration(*t, "probe_timeout", "detect.probe_timeout",
                                           milliseconds(10), seconds(10),
                                           &c->detect.probe_timeout));
    }
    LASTCALL_RETURN_IF_ERROR(st);
    if (const toml::table* t = SubTable(root, "hooks", &st)) {
      LASTCALL_RETURN_IF_ERROR(ParseHooks(*t, &c->hooks));
    }
    LASTCALL_RETURN_IF_ERROR(st);
    if (const toml::node* n = root.get("hook")) {
      LASTCALL_RETURN_IF_ERROR(ParseHookSpecs(*n, &c->hook_specs));
    }
    if (const toml::table* t = SubTable(root, "metrics", &st)) {
      LASTCALL_RETURN_IF_ERROR(ParseMetrics(*t, &c->metrics));
    }
    LASTCALL_RETURN_IF_ERROR(st);
    return Status::Ok();
  }

  Status ParsePoll(const toml::table& t, PollOptions* p) const {
    LASTCALL_RETURN_IF_ERROR(
        CheckKeys(t, "poll",
                  {"interval", "jitter", "request_timeout", "max_backoff", "clock_skew_threshold",
                   "withdraw_polls", "withdraw_after", "clock_check_wait", "proxy"}));
    LASTCALL_RETURN_IF_ERROR(
        GetDuration(t, "interval", "poll.interval", milliseconds(100), hours(1), &p->interval));
    LASTCALL_RETURN_IF_ERROR(GetDouble(t, "jitter", "poll.jitter", 0.0, 0.5, &p->jitter));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "request_timeout", "poll.request_timeout",
                                         milliseconds(10), minutes(1), &p->request_timeout));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "max_backoff", "poll.max_backoff", milliseconds(100),
                                         hours(1), &p->max_backoff));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "clock_skew_threshold", "poll.clock_skew_threshold",
                                         seconds(1), hours(24), &p->clock_skew_threshold));
    LASTCALL_RETURN_IF_ERROR(
        GetInt(t, "withdraw_polls", "poll.withdraw_polls", 1, 1000, &p->withdraw_polls));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "withdraw_after", "poll.withdraw_after",
                                         milliseconds(0), hours(1), &p->withdraw_after));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "clock_check_wait", "poll.clock_check_wait",
                                         milliseconds(0), minutes(10), &p->clock_check_wait));
    // "" (the default) is no proxy at all, whatever http_proxy says in the environment.
    LASTCALL_RETURN_IF_ERROR(GetString(t, "proxy", "poll.proxy", &p->proxy));
    if (!p->proxy.empty()) {
      LASTCALL_RETURN_IF_ERROR(GetUrl(t, "proxy", "poll.proxy", " (or \"\" for none)", &p->proxy));
    }
    // Cross-field rules are reported at whichever of the two keys the file sets.
    auto where = [&](std::string_view a, std::string_view b) -> const toml::node* {
      if (const toml::node* n = t.get(a)) return n;
      return t.get(b);
    };
    if (p->request_timeout >= p->interval) {
      return Err(*where("request_timeout", "interval"),
                 "poll.request_timeout (" + FormatDuration(p->request_timeout) +
                     ") must be less than poll.interval (" + FormatDuration(p->interval) +
                     "), or a hung request would delay the next poll");
    }
    if (p->max_backoff < p->interval) {
      return Err(*where("max_backoff", "interval"),
                 "poll.max_backoff (" + FormatDuration(p->max_backoff) +
                     ") must be at least poll.interval (" + FormatDuration(p->interval) + ")");
    }
    return Status::Ok();
  }

  Status ParseAws(const toml::table& t, AwsOptions* a) const {
    LASTCALL_RETURN_IF_ERROR(CheckKeys(
        t, "aws",
        {"endpoint", "allow_imdsv1", "token_ttl", "watch_instance_action", "watch_termination_time",
         "watch_rebalance", "watch_scheduled_events", "watch_lifecycle_state"}));
    LASTCALL_RETURN_IF_ERROR(GetEndpoint(t, "aws.endpoint", &a->endpoint));
    LASTCALL_RETURN_IF_ERROR(GetBool(t, "allow_imdsv1", "aws.allow_imdsv1", &a->allow_imdsv1));
    LASTCALL_RETURN_IF_ERROR(
        GetDuration(t, "token_ttl", "aws.token_ttl", seconds(1), hours(6), &a->token_ttl));
    LASTCALL_RETURN_IF_ERROR(GetBool(t, "watch_instance_action", "aws.watch_instance_action",
                                     &a->watch_instance_action));
    LASTCALL_RETURN_IF_ERROR(GetBool(t, "watch_termination_time", "aws.watch_termination_time",
                                     &a->watch_termination_time));
    LASTCALL_RETURN_IF_ERROR(
        GetBool(t, "watch_rebalance", "aws.watch_rebalance", &a->watch_rebalance));
    LASTCALL_RETURN_IF_ERROR(GetBool(t, "watch_scheduled_events", "aws.watch_scheduled_events",
                                     &a->watch_scheduled_events));
    LASTCALL_RETURN_IF_ERROR(GetBool(t, "watch_lifecycle_state", "aws.watch_lifecycle_state",
                                     &a->watch_lifecycle_state));
    return Status::Ok();
  }

  Status ParseAlibaba(const toml::table& t, AlibabaOptions* a) const {
    LASTCALL_RETURN_IF_ERROR(CheckKeys(t, "alibaba", {"endpoint", "token", "token_ttl"}));
    LASTCALL_RETURN_IF_ERROR(GetEndpoint(t, "alibaba.endpoint", &a->endpoint));
    if (const toml::node* n = t.get("token")) {
      if (!n->is_string()) return WrongType(*n, "alibaba.token", "a string");
      const std::string& v = n->as_string()->get();
      if (v == "auto") {
        a->token = TokenMode::kAuto;
      } else if (v == "required") {
        a->token = TokenMode::kRequired;
      } else if (v == "off") {
        a->token = TokenMode::kOff;
      } else {
        return Err(*n,
                   "alibaba.token must be one of \"auto\", \"required\", \"off\", got " + Quote(v));
      }
    }
    LASTCALL_RETURN_IF_ERROR(
        GetDuration(t, "token_ttl", "alibaba.token_ttl", seconds(1), hours(6), &a->token_ttl));
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

  Status ParseHooks(const toml::table& t, HookOptions* h) const {
    LASTCALL_RETURN_IF_ERROR(CheckKeys(
        t, "hooks",
        {"dir", "default_timeout", "safety_margin", "kill_grace", "stop_timeout", "notify_timeout",
         "advisory_budget", "allowed_owner", "max_output_bytes", "max_concurrent", "policy"}));
    LASTCALL_RETURN_IF_ERROR(GetAbsolutePath(t, "dir", "hooks.dir", false, &h->hooks_dir));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "default_timeout", "hooks.default_timeout", seconds(1),
                                         hours(6), &h->default_timeout));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "safety_margin", "hooks.safety_margin",
                                         Duration::zero(), minutes(10), &h->safety_margin));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "kill_grace", "hooks.kill_grace", milliseconds(100),
                                         minutes(5), &h->kill_grace));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "stop_timeout", "hooks.stop_timeout", milliseconds(100),
                                         hours(1), &h->stop_timeout));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "notify_timeout", "hooks.notify_timeout", seconds(1),
                                         hours(1), &h->notify_timeout));
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "advisory_budget", "hooks.advisory_budget", seconds(1),
                                         hours(24), &h->advisory_budget));
    LASTCALL_RETURN_IF_ERROR(
        GetString(t, "allowed_owner", "hooks.allowed_owner", &h->allowed_owner));
    LASTCALL_RETURN_IF_ERROR(GetInt(t, "max_output_bytes", "hooks.max_output_bytes", 1024,
                                    16 * 1024 * 1024, &h->max_output_bytes));
    LASTCALL_RETURN_IF_ERROR(
        GetInt(t, "max_concurrent", "hooks.max_concurrent", 1, 256, &h->max_concurrent));
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
        const toml::array* arr = ph->as_array();
        if (!arr) return WrongType(*ph, kname + ".phases", "an array of phase names");
        p.phases.clear();
        for (const toml::node& e : *arr) {
          if (!e.is_string()) return WrongType(e, kname + ".phases", "an array of strings");
          auto phase = ParseHookPhase(e.as_string()->get());
          if (!phase) return Err(e, BadPhase(kname + ".phases", e.as_string()->get()));
          if (std::find(p.phases.begin(), p.phases.end(), *phase) != p.phases.end()) {
            return Err(e, kname + ".phases lists " + Quote(e.as_string()->get()) + " twice");
          }
          p.phases.push_back(*phase);
        }
      }
      LASTCALL_RETURN_IF_ERROR(
          GetDuration(pt, "lead", kname + ".lead", Duration::zero(), hours(24 * 30), &p.lead));
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
      const toml::table& t = *e.as_table();
      LASTCALL_RETURN_IF_ERROR(
          CheckKeys(t, "[hook]", {"name", "phase", "command", "timeout", "kinds", "env"}));
      HookSpec h;
      h.source = path_ + ":" + std::to_string(t.source().begin.line);
      const toml::node* name = t.get("name");
      if (!name) return Err(t, "[[hook]] needs a name");
      if (!name->is_string()) return WrongType(*name, "hook.name", "a string");
      h.name = name->as_string()->get();
      if (h.name.empty() || h.name.find_first_of("/ \t\n") != std::string::npos) {
        return Err(*name,
                   "hook.name must be non-empty without spaces or slashes, got " + Quote(h.name));
      }
      if (!names.insert(h.name).second) {
        return Err(*name, "hook.name " + Quote(h.name) + " is used by an earlier [[hook]]");
      }
      const toml::node* phase = t.get("phase");
      if (!phase) return Err(t, "[[hook]] " + Quote(h.name) + " needs a phase");
      if (!phase->is_string()) return WrongType(*phase, "hook.phase", "a string");
      auto p = ParseHookPhase(phase->as_string()->get());
      if (!p) return Err(*phase, BadPhase("hook.phase", phase->as_string()->get()));
      h.phase = *p;
      const toml::node* cmd = t.get("command");
      if (!cmd) return Err(t, "[[hook]] " + Quote(h.name) + " needs a command");
      if (cmd->is_string()) {
        h.command.push_back(cmd->as_string()->get());
      } else if (const toml::array* ca = cmd->as_array()) {
        for (const toml::node& a : *ca) {
          if (!a.is_string()) return WrongType(a, "hook.command", "an array of strings");
          h.command.push_back(a.as_string()->get());
        }
      } else {
        return WrongType(*cmd, "hook.command", "a string or an array of strings");
      }
      if (h.command.empty() || h.command[0].empty() || h.command[0][0] != '/') {
        return Err(*cmd,
                   "hook.command must start with an absolute path (hooks do not search "
                   "PATH), got " +
                       Quote(h.command.empty() ? "" : h.command[0]));
      }
      if (t.get("timeout")) {
        Duration d{};
        LASTCALL_RETURN_IF_ERROR(
            GetDuration(t, "timeout", "hook.timeout", seconds(1), hours(6), &d));
        h.timeout = d;
      }
      if (const toml::node* k = t.get("kinds")) {
        LASTCALL_RETURN_IF_ERROR(ParseKindList(*k, "hook.kinds", &h.kinds));
      }
      if (const toml::node* env = t.get("env")) {
        const toml::table* et = env->as_table();
        if (!et) return WrongType(*env, "hook.env", "a table of strings");
        for (auto&& [k, v] : *et) {
          if (!v.is_string()) return WrongType(v, "hook.env." + std::string(k.str()), "a string");
          if (k.str().rfind("LASTCALL_", 0) == 0) {
            return Err(k.source(), "hook.env may not set " + Quote(k.str()) +
                                       ": LASTCALL_* variables are set by lastcalld");
          }
          h.env[std::string(k.str())] = v.as_string()->get();
        }
      }
      out->push_back(std::move(h));
    }
    return Status::Ok();
  }

  Status ParseMetrics(const toml::table& t, MetricsOptions* m) const {
    LASTCALL_RETURN_IF_ERROR(CheckKeys(t, "metrics", {"textfile", "listen", "write_interval"}));
    LASTCALL_RETURN_IF_ERROR(
        GetAbsolutePath(t, "textfile", "metrics.textfile", true, &m->textfile));
    LASTCALL_RETURN_IF_ERROR(GetString(t, "listen", "metrics.listen", &m->listen));
    if (const toml::node* n = t.get("listen"); n && !m->listen.empty()) {
      // Only loopback: the endpoint has no authentication and tells an attacker when the
      // instance is about to go away. Remote scraping goes through node_exporter's textfile.
      Result<ListenAddress> addr = ParseLoopbackListenAddress(m->listen);
      if (!addr.ok()) {
        return Err(*n, "metrics.listen " + addr.status().message() +
                           "; use metrics.textfile with node_exporter to export remotely");
      }
    }
    LASTCALL_RETURN_IF_ERROR(GetDuration(t, "write_interval", "metrics.write_interval", seconds(1),
                                         hours(1), &m->write_interval));
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
  const char* provider = c.provider == ProviderChoice::kAws       ? "aws"
                         : c.provider == ProviderChoice::kAlibaba ? "alibaba"
                                                                  : "auto";
  o << "provider = " << TomlString(provider) << "\n";
  o << "state_dir = " << TomlString(c.state_dir) << "\n";
  o << "runtime_dir = " << TomlString(c.runtime_dir) << "\n";
  o << "log_level = " << TomlString(c.log_level) << "\n\n";
  o << "[poll]\ninterval = " << TomlDuration(c.poll.interval) << "\njitter = " << c.poll.jitter
    << "\nrequest_timeout = " << TomlDuration(c.poll.request_timeout)
    << "\nmax_backoff = " << TomlDuration(c.poll.max_backoff)
    << "\nclock_skew_threshold = " << TomlDuration(c.poll.clock_skew_threshold)
    << "\nwithdraw_polls = " << c.poll.withdraw_polls
    << "\nwithdraw_after = " << TomlDuration(c.poll.withdraw_after)
    << "\nclock_check_wait = " << TomlDuration(c.poll.clock_check_wait)
    << "\nproxy = " << TomlString(c.poll.proxy) << "\n\n";
  o << "[aws]\nendpoint = " << TomlString(c.aws.endpoint)
    << "\nallow_imdsv1 = " << TomlBool(c.aws.allow_imdsv1)
    << "\ntoken_ttl = " << TomlDuration(c.aws.token_ttl)
    << "\nwatch_instance_action = " << TomlBool(c.aws.watch_instance_action)
    << "\nwatch_termination_time = " << TomlBool(c.aws.watch_termination_time)
    << "\nwatch_rebalance = " << TomlBool(c.aws.watch_rebalance)
    << "\nwatch_scheduled_events = " << TomlBool(c.aws.watch_scheduled_events)
    << "\nwatch_lifecycle_state = " << TomlBool(c.aws.watch_lifecycle_state) << "\n\n";
  const char* token = c.alibaba.token == TokenMode::kRequired ? "required"
                      : c.alibaba.token == TokenMode::kOff    ? "off"
                                                              : "auto";
  o << "[alibaba]\nendpoint = " << TomlString(c.alibaba.endpoint)
    << "\ntoken = " << TomlString(token) << "\ntoken_ttl = " << TomlDuration(c.alibaba.token_ttl)
    << "\n\n";
  o << "[detect]\ndmi_dir = " << TomlString(c.detect.dmi_dir)
    << "\nprobe_timeout = " << TomlDuration(c.detect.probe_timeout) << "\n\n";
  o << "[hooks]\ndir = " << TomlString(c.hooks.hooks_dir)
    << "\ndefault_timeout = " << TomlDuration(c.hooks.default_timeout)
    << "\nsafety_margin = " << TomlDuration(c.hooks.safety_margin)
    << "\nkill_grace = " << TomlDuration(c.hooks.kill_grace)
    << "\nstop_timeout = " << TomlDuration(c.hooks.stop_timeout)
    << "\nnotify_timeout = " << TomlDuration(c.hooks.notify_timeout)
    << "\nadvisory_budget = " << TomlDuration(c.hooks.advisory_budget)
    << "\nallowed_owner = " << TomlString(c.hooks.allowed_owner)
    << "\nmax_output_bytes = " << c.hooks.max_output_bytes
    << "\nmax_concurrent = " << c.hooks.max_concurrent << "\n";
  for (const auto& [kind, policy] : c.hooks.policies) {
    o << "\n[hooks.policy." << NoticeKindName(kind) << "]\nphases = [";
    for (size_t i = 0; i < policy.phases.size(); ++i) {
      o << (i ? ", " : "") << TomlString(HookPhaseName(policy.phases[i]));
    }
    o << "]\nlead = " << TomlDuration(policy.lead) << "\n";
  }
  o << "\n[metrics]\ntextfile = " << TomlString(c.metrics.textfile)
    << "\nlisten = " << TomlString(c.metrics.listen)
    << "\nwrite_interval = " << TomlDuration(c.metrics.write_interval) << "\n";
  for (const HookSpec& h : c.hook_specs) {
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
  return o.str();
}

}  // namespace lastcall
