// Config: everything an operator can set in lastcalld.toml, with its default.
//
// This header holds the settings and their defaults (the documented defaults); config_fields.h
// lists every setting once with its key, type and range, and that list drives parsing
// (config_loader.{h,cc}, file:line:column errors and unknown-key suggestions), the
// --check-config --verbose output and the reload's provider comparison. A new member here
// needs its row there (config_fields_test fails otherwise); etc/lastcalld.toml documents every
// key. The rest of the agent only reads these structs.
//
// Thread-safety: plain values. The daemon swaps in a whole new Config on reload.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/notice.h"
#include "common/clock.h"
#include "common/enum_names.h"

namespace lastcall {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

enum class HookPhase { kCheckpoint, kDrain, kNotify, kResume };
inline constexpr EnumNames<HookPhase, 4> kHookPhaseNames = {{
    {HookPhase::kCheckpoint, "checkpoint"},
    {HookPhase::kDrain, "drain"},
    {HookPhase::kNotify, "notify"},
    {HookPhase::kResume, "resume"},
}};
std::string_view HookPhaseName(HookPhase phase);
std::optional<HookPhase> ParseHookPhase(std::string_view name);

enum class ProviderChoice { kAuto, kAws, kAlibaba };

struct PollOptions {
  Duration interval = seconds(2);                 // >= 100ms
  double jitter = 0.1;                            // fraction of interval, 0..0.5
  Duration request_timeout = milliseconds(1000);  // must be < interval
  Duration max_backoff = seconds(30);             // ceiling for exponential backoff on errors
  // Use the metadata server's Date header as "now" when the local clock disagrees by more.
  Duration clock_skew_threshold = seconds(2);
  // Withdrawal needs evidence: a notice is withdrawn only after it was absent from at least
  // withdraw_polls clean polls in a row AND for at least withdraw_after (docs/configuration.md).
  size_t withdraw_polls = 3;
  Duration withdraw_after = seconds(6);
  // Server time first: at start, no hook runs until a metadata answer's Date was seen or this
  // long has passed; and nothing is skipped as past or pruned before a Date was seen.
  Duration clock_check_wait = seconds(10);
  // The proxy for metadata requests; empty means none, and the environment's http_proxy is
  // never used (a metadata request must not leave the instance by accident).
  std::string proxy;

  bool operator==(const PollOptions&) const = default;
};

struct AwsOptions {
  std::string endpoint = "http://169.254.169.254";  // may carry a path prefix
  bool allow_imdsv1 = false;      // fall back to tokenless GETs when PUT /api/token fails
  Duration token_ttl = hours(6);  // 1s..6h (1..21600 seconds)
  // Monitors, each can be switched off.
  bool watch_instance_action = true;
  bool watch_termination_time = true;
  bool watch_rebalance = true;
  bool watch_scheduled_events = true;
  bool watch_lifecycle_state = true;

  bool operator==(const AwsOptions&) const = default;
};

enum class TokenMode { kAuto, kRequired, kOff };

struct AlibabaOptions {
  std::string endpoint = "http://100.100.100.200";
  TokenMode token = TokenMode::kAuto;  // hardened mode: auto = use when the server offers it
  Duration token_ttl = hours(6);

  bool operator==(const AlibabaOptions&) const = default;
};

struct DetectOptions {
  std::string dmi_dir = "/sys/class/dmi/id";
  Duration probe_timeout = milliseconds(300);

  bool operator==(const DetectOptions&) const = default;
};

// Which phases a kind of notice runs, and when.
struct PhasePolicy {
  std::vector<HookPhase> phases;
  // Run this long before the deadline instead of at once (maintenance events are announced
  // days ahead). Zero means at once.
  Duration lead = Duration::zero();

  bool operator==(const PhasePolicy&) const = default;
};

struct HookOptions {
  std::string hooks_dir = "/etc/lastcall/hooks.d";  // <hooks_dir>/<phase>/ run-parts order
  Duration default_timeout = seconds(60);
  Duration safety_margin = seconds(5);  // hooks must end this long before the deadline
  Duration kill_grace = seconds(5);     // SIGTERM -> SIGKILL
  // When lastcalld is stopped (SIGTERM) while hooks run, they may finish within their own
  // (deadline-capped) timeouts, but no longer than this: on a reclaimed instance the OS stops
  // services while the drain hook runs. systemd's TimeoutStopSec must be above it.
  Duration stop_timeout = seconds(90);
  Duration notify_timeout = seconds(10);
  // Advisory notices without a deadline get this budget.
  Duration advisory_budget = minutes(2);
  // Owner allowed besides root (the service user), empty = root only.
  std::string allowed_owner;
  size_t max_output_bytes = 64 * 1024;  // per hook, what goes to the log
  // Hook processes running at once (all phases and notices); more wait for a slot.
  size_t max_concurrent = 8;
  std::map<NoticeKind, PhasePolicy> policies = {
      {NoticeKind::kInterruption, {{HookPhase::kCheckpoint, HookPhase::kDrain}, {}}},
      {NoticeKind::kRelease, {{HookPhase::kCheckpoint, HookPhase::kDrain}, {}}},
      {NoticeKind::kPreempt, {{HookPhase::kCheckpoint, HookPhase::kDrain}, {}}},
      {NoticeKind::kLifecycle, {{HookPhase::kCheckpoint, HookPhase::kDrain}, {}}},
      {NoticeKind::kRebalance, {{HookPhase::kCheckpoint}, {}}},
      {NoticeKind::kMaintenance, {{HookPhase::kCheckpoint, HookPhase::kDrain}, minutes(10)}},
  };

  bool operator==(const HookOptions&) const = default;
};

// A [[hook]] table.
struct HookSpec {
  std::string name;
  HookPhase phase = HookPhase::kCheckpoint;
  std::vector<std::string> command;  // argv; command[0] is an absolute path
  std::optional<Duration> timeout;   // default: HookOptions::default_timeout
  std::vector<NoticeKind> kinds;     // empty = every kind
  std::map<std::string, std::string> env;
  std::string source;  // "lastcalld.toml:42" or the hooks.d path

  bool operator==(const HookSpec&) const = default;
};

struct MetricsOptions {
  std::string textfile;  // node_exporter textfile collector path; empty = off
  std::string listen;    // "127.0.0.1:9877"; empty = off
  Duration write_interval = seconds(15);

  bool operator==(const MetricsOptions&) const = default;
};

struct Config {
  std::string path;  // the file it came from, for messages
  ProviderChoice provider = ProviderChoice::kAuto;
  std::string state_dir = "/var/lib/lastcall";
  std::string runtime_dir = "/run/lastcall";  // status socket
  std::string log_level = "info";             // debug|info|notice|warning|err
  PollOptions poll;
  AwsOptions aws;
  AlibabaOptions alibaba;
  DetectOptions detect;
  HookOptions hooks;
  std::vector<HookSpec> hook_specs;
  MetricsOptions metrics;

  bool operator==(const Config&) const = default;
};

}  // namespace lastcall
