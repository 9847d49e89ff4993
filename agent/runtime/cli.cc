#include "agent/runtime/cli.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>

#include "agent/base/metric_catalog.h"
#include "agent/base/provider.h"
#include "agent/runtime/config_loader.h"
#include "common/files.h"
#include "common/time_format.h"

#ifndef LASTCALL_VERSION
#define LASTCALL_VERSION "0.0.0"
#endif

namespace lastcall {

std::string UsageText() {
  return R"(Usage: lastcalld [--config FILE] [COMMAND] [OPTIONS]

lastcalld watches the instance metadata service for spot interruption, release, rebalance
and maintenance notices, and runs the operator's hooks (checkpoint, drain, notify, resume)
before the deadline, exactly once per notice, also across restarts.

Commands:
  (none), run          run the daemon (under systemd: Type=notify, SIGHUP reloads the config)
  status [--json]      show what the running daemon sees: identity, last poll, notices, hooks
  simulate --kind KIND --in DURATION [--action ACTION]
                       run the hook phases for a made-up notice (in a temporary state dir),
                       print each hook's result; exit 1 if a hook failed. KIND is one of
                       interruption, release, rebalance, maintenance, preempt, lifecycle;
                       DURATION like 90s or 2m (time until the deadline, default 120s);
                       ACTION defaults to the kind's usual one (terminate, release, ...).

Options:
  -c, --config FILE    config file (default /etc/lastcall/lastcalld.toml; when the default
                       file is missing the built-in defaults apply, an explicit FILE must exist)
  --check-config       validate the config and exit: "ok" and 0, or "FILE:LINE:COL: problem"
                       and 78; with --verbose also print the effective config
  -h, --help           show this help
  --version            show the version

Examples:
  lastcalld --check-config --config ./lastcalld.toml
  lastcalld simulate --kind interruption --in 2m
  lastcalld status
  systemctl reload lastcalld        # SIGHUP: reload the config, keep the notice state

Exit codes: 0 ok, 1 failure (a simulated hook failed), 3 daemon not running (status),
64 bad usage, 78 bad config.
Docs: docs/lastcalld.md, docs/configuration.md.
)";
}

std::string VersionText() { return std::string("lastcalld ") + LASTCALL_VERSION + "\n"; }

namespace {

Status Usage(std::string m) { return InvalidArgument(std::move(m) + " (see --help)"); }

// Walks the arguments; "--flag=value" and "--flag value" both work.
class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}

  // Moves to the next argument; false at the end.
  bool Next() {
    if (++i_ >= args_.size()) return false;
    arg_ = args_[i_];
    flag_ = arg_;
    value_.reset();
    if (arg_.rfind("--", 0) == 0) {
      if (size_t eq = arg_.find('='); eq != std::string::npos) {
        flag_ = arg_.substr(0, eq);
        value_ = arg_.substr(eq + 1);
      }
    }
    return true;
  }
  const std::string& arg() const { return arg_; }
  const std::string& flag() const { return flag_; }
  // The flag's value: after '=', else the next argument.
  Result<std::string> TakeValue() {
    if (value_) return *value_;
    if (i_ + 1 >= args_.size()) return Usage(flag_ + " needs a value");
    return args_[++i_];
  }

 private:
  const std::vector<std::string>& args_;
  size_t i_ = static_cast<size_t>(-1);
  std::string arg_, flag_;
  std::optional<std::string> value_;
};

struct ParsedArgs {
  CliOptions o;
  bool have_command = false;
  bool have_simulate_flag = false;  // --kind, --in or --action
  bool have_kind = false;
};

Status SetCommand(ParsedArgs& p, CliCommand c, std::string_view name) {
  if (p.have_command && p.o.command != c) {
    return Usage("\"" + std::string(name) + "\" cannot be combined with another command");
  }
  p.have_command = true;
  p.o.command = c;
  return Status::Ok();
}

// --kind, --in, --action. Returns false when the flag is none of them.
Result<bool> ParseSimulateFlag(ArgReader& in, ParsedArgs& p) {
  const std::string& flag = in.flag();
  if (flag != "--kind" && flag != "--in" && flag != "--action") return false;
  Result<std::string> v = in.TakeValue();
  if (!v.ok()) return v.status();
  p.have_simulate_flag = true;
  if (flag == "--kind") {
    auto k = ParseNoticeKind(*v);
    if (!k) {
      return Usage("--kind: unknown notice kind \"" + *v +
                   "\"; kinds are interruption, release, rebalance, maintenance, preempt, "
                   "lifecycle");
    }
    p.o.kind = *k;
    p.have_kind = true;
  } else if (flag == "--in") {
    Result<Duration> d = ParseDuration(*v);
    if (!d.ok()) return Usage("--in: " + d.status().message());
    p.o.in = *d;
  } else {
    if (v->empty()) return Usage("--action needs a value");
    p.o.action = *v;
  }
  return true;
}

Status ParseArgument(ArgReader& in, ParsedArgs& p) {
  const std::string& a = in.arg();
  const std::string& flag = in.flag();
  if (flag == "-h" || flag == "--help") return SetCommand(p, CliCommand::kHelp, flag);
  if (flag == "--version") return SetCommand(p, CliCommand::kVersion, flag);
  if (flag == "--check-config") return SetCommand(p, CliCommand::kCheckConfig, flag);
  if (flag == "-c" || flag == "--config") {
    Result<std::string> v = in.TakeValue();
    if (!v.ok()) return v.status();
    if (v->empty()) return Usage(flag + " needs a file name");
    p.o.config_path = *v;
    p.o.config_explicit = true;
    return Status::Ok();
  }
  if (flag == "--json") {
    p.o.json = true;
    return Status::Ok();
  }
  if (flag == "-v" || flag == "--verbose") {
    p.o.verbose = true;
    return Status::Ok();
  }
  Result<bool> simulate_flag = ParseSimulateFlag(in, p);
  if (!simulate_flag.ok()) return simulate_flag.status();
  if (*simulate_flag) return Status::Ok();
  if (a == "run") return SetCommand(p, CliCommand::kRun, a);
  if (a == "status") return SetCommand(p, CliCommand::kStatus, a);
  if (a == "simulate") return SetCommand(p, CliCommand::kSimulate, a);
  if (!a.empty() && a[0] == '-') return Usage("unknown option \"" + a + "\"");
  return Usage("unknown command \"" + a + "\"; commands are run, status, simulate");
}

// Flags that only go with one command.
Status CheckCombinations(const ParsedArgs& p) {
  const CliCommand c = p.o.command;
  if (p.o.json && c != CliCommand::kStatus) return Usage("--json only goes with status");
  if (p.o.verbose && c != CliCommand::kCheckConfig) {
    return Usage("--verbose only goes with --check-config");
  }
  if (p.have_simulate_flag && c != CliCommand::kSimulate) {
    return Usage("--kind, --in and --action only go with simulate");
  }
  if (c == CliCommand::kSimulate && !p.have_kind) {
    return Usage("simulate needs --kind (e.g. --kind interruption)");
  }
  return Status::Ok();
}

}  // namespace

Result<CliOptions> ParseCommandLine(const std::vector<std::string>& args) {
  ParsedArgs p;
  p.o.config_path = std::string(kDefaultConfigPath);
  ArgReader in(args);
  while (in.Next()) LASTCALL_RETURN_IF_ERROR(ParseArgument(in, p));
  LASTCALL_RETURN_IF_ERROR(CheckCombinations(p));
  return p.o;
}

// --- status -------------------------------------------------------------------------------

namespace {

std::string TimeOrDash(const std::optional<WallTime>& t) { return t ? FormatRfc3339(*t) : "-"; }

template <typename T>
std::string NumberOrDash(const std::optional<T>& v) {
  return v ? std::to_string(*v) : "-";
}

void RenderLastPoll(const std::optional<PollStatus>& lp, std::ostream& o) {
  if (!lp) {
    o << "  last poll:    none yet\n";
    return;
  }
  o << "  last poll:    " << TimeOrDash(lp->time) << (lp->ok ? " ok" : " FAILED") << "\n";
  for (const std::string& e : lp->errors) o << "    error:      " << e << "\n";
  if (lp->notices.empty()) o << "  notices:      none\n";
  for (const Notice& n : lp->notices) {
    o << "  notice:       " << NoticeKindName(n.kind) << " " << n.action << " deadline "
      << TimeOrDash(n.deadline) << " [" << n.id << "]\n";
  }
}

}  // namespace

std::string RenderStatus(const DaemonStatus& s) {
  std::ostringstream o;
  o << "lastcalld " << DaemonStateName(s.state) << " (pid " << s.pid << ")\n";
  o << "  watching:     " << s.watching << "\n";
  o << "  config:       " << s.config << "\n";
  if (s.identity) {
    o << "  instance:     " << s.identity->instance_id << " (" << s.identity->instance_type << ", "
      << s.identity->zone << ", " << s.identity->region << ")\n";
  } else {
    o << "  instance:     (identity not read yet)\n";
  }
  o << "  polls:        " << NumberOrDash(s.polls) << " (" << NumberOrDash(s.poll_errors)
    << " with errors)\n";
  RenderLastPoll(s.last_poll, o);
  o << "  last success: " << TimeOrDash(s.last_success) << "\n";
  if (s.clock_skew_ms) {
    o << "  clock skew:   " << *s.clock_skew_ms
      << " ms (deadlines use the metadata server's clock)\n";
  }
  o << "  hooks running: " << s.running_hooks << "\n";
  o << "  handler:\n";
  std::istringstream lines(nlohmann::json::parse(HandlerStatusToJson(s.handler)).dump(2));
  for (std::string line; std::getline(lines, line);) o << "    " << line << "\n";
  o << "  updated:      " << TimeOrDash(s.updated) << "\n";
  return o.str();
}

Result<std::string> RenderStatus(const std::string& status_json) {
  Result<DaemonStatus> s = DaemonStatusFromJson(status_json);
  if (!s.ok()) return DataLoss("not a lastcalld status file (" + s.status().message() + ")");
  return RenderStatus(*s);
}

// status.json is a few KiB; anything near this is not one.
constexpr size_t kMaxStatusBytes = 1 << 20;

int RunStatusCommand(const CliOptions& options, const Config& config, std::ostream& out,
                     std::ostream& err) {
  std::string path = config.runtime_dir + "/status.json";
  // Bounded and non-blocking: the runtime dir is the daemon's, but a reader never hangs on it.
  Result<std::string> file = ReadFileBounded(path, kMaxStatusBytes);
  if (!file.ok()) {
    err << "lastcalld is not running (no " << path << ": " << file.status().message() << ")\n";
    return kExitNotRunning;
  }
  const std::string& text = *file;
  Result<DaemonStatus> status = DaemonStatusFromJson(text);
  bool alive = false;
  if (status.ok()) {
    const long pid = status->pid;
    alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) &&
            status->state != DaemonState::kStopped;
  }
  if (options.json) {
    out << text;
  } else if (!status.ok()) {
    err << path << ": not a lastcalld status file (" << status.status().message() << ")\n";
    return kExitFailure;
  } else {
    out << RenderStatus(*status);
  }
  if (!alive) {
    err << "lastcalld is not running (" << path << " is what it saw last)\n";
    return kExitNotRunning;
  }
  return kExitOk;
}

// --- simulate -----------------------------------------------------------------------------

Notice MakeSimulatedNotice(NoticeKind kind, const std::string& action, WallTime now, Duration in) {
  Notice n;
  n.provider = "simulate";
  n.kind = kind;
  n.state = NoticeState::kActive;
  n.action = action;
  if (n.action.empty()) {
    switch (kind) {
      case NoticeKind::kInterruption:
      case NoticeKind::kPreempt:
        n.action = "terminate";
        break;
      case NoticeKind::kRelease:
        n.action = "release";
        break;
      case NoticeKind::kRebalance:
        n.action = "rebalance";
        break;
      case NoticeKind::kMaintenance:
        n.action = "system-reboot";
        break;
      case NoticeKind::kLifecycle:
        n.action = "Terminated";
        break;
    }
  }
  WallTime deadline = std::chrono::time_point_cast<std::chrono::seconds>(now + in);
  bool advisory = kind == NoticeKind::kRebalance || kind == NoticeKind::kLifecycle;
  if (!advisory) n.deadline = deadline;
  n.notice_time = std::chrono::time_point_cast<std::chrono::seconds>(now);
  n.source = "simulate";
  nlohmann::json raw = {{"action", n.action}, {"time", FormatRfc3339(deadline)}};
  n.raw = raw.dump();
  n.id = MakeNoticeId("simulate", kind, "");
  return n;
}

bool PrintHookRuns(const Metrics& metrics, std::ostream& out) {
  bool failed = false;
  for (const auto& phase : kHookPhaseNames) {
    for (const auto& result : kHookResultNames) {
      const double runs =
          metrics.Value(metric::kHookRuns, metric::HookRunLabels(phase.value, result.value));
      if (runs == 0) continue;
      out << "hook runs: {phase=\"" << phase.name << "\",result=\"" << result.name << "\"} "
          << static_cast<long long>(runs) << "\n";
      failed |= result.value != HookResult::kOk;
    }
  }
  return failed;
}

int RunSimulateCommand(const CliOptions& options, Config config, const HandlerFactory& make_handler,
                       const Clock& clock, std::ostream& out, std::ostream& err,
                       const WaitIdleFn& wait_idle) {
  if (!make_handler) {
    err << "simulate: this build has no hook runner\n";
    return kExitFailure;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "lastcall-simulate-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    err << "simulate: cannot create a temporary state dir: " << ErrnoText(errno) << "\n";
    return kExitFailure;
  }
  config.state_dir = tmpl;
  Metrics metrics;
  std::unique_ptr<NoticeHandler> handler = make_handler(config, clock, metrics);
  if (!handler) {
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    err << "simulate: the hook runner could not be set up\n";
    return kExitFailure;
  }
  Identity id{"i-simulated", "simulated", "local-1a", "local-1", ""};
  handler->SetIdentity(id);
  Notice notice = MakeSimulatedNotice(options.kind, options.action, clock.Now(), options.in);
  out << "simulating " << NoticeKindName(notice.kind) << " (" << notice.action << ")"
      << (notice.deadline ? ", deadline " + FormatRfc3339(*notice.deadline) : std::string())
      << ", state in " << tmpl << std::endl;  // before the hooks' log lines on stderr
  PollResult poll;
  poll.notices.push_back(notice);
  // A simulation has no metadata server: the local clock is the one the deadline was made in,
  // so it counts as checked (the handler holds back deadline decisions until a clock is).
  poll.server_date = clock.Now();
  // Keep feeding the same snapshot, as the daemon would, until the handler has been idle for
  // a while: phases start one after another, so a single idle moment is not the end.
  const auto kStep = std::chrono::milliseconds(100);
  const auto kQuiet = std::chrono::milliseconds(600);
  MonoTime limit =
      clock.Monotonic() + options.in + config.hooks.kill_grace + std::chrono::seconds(5);
  if (wait_idle) {
    handler->Update(poll, clock.Now());
    if (!wait_idle(*handler, std::chrono::duration_cast<Duration>(limit - clock.Monotonic()))) {
      err << "simulate: hooks still running at the deadline; stopping them\n";
    }
  } else {
    MonoTime idle_since = clock.Monotonic();
    HandlerStatus last_status;
    while (clock.Monotonic() < limit) {
      handler->Update(poll, clock.Now());
      HandlerStatus status = handler->Report();
      MonoTime now = clock.Monotonic();
      if (handler->RunningHooks() > 0 || status != last_status) idle_since = now;
      last_status = status;
      if (now - idle_since >= kQuiet) break;
      clock.SleepUntil(now + kStep);  // pacing the feed, like the poll interval
    }
  }
  handler->Shutdown(config.hooks.kill_grace);
  const HandlerStatus status = handler->Report();
  out << nlohmann::json::parse(HandlerStatusToJson(status)).dump(2) << "\n";
  // A phase that failed or timed out, or any hook run whose result was not ok (also a start
  // failure, an abort or a skip), is a failure.
  bool failed = status.AnyPhaseFailed();
  failed |= PrintHookRuns(metrics, out);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  if (failed) {
    err << "simulate: a hook failed (see above)\n";
    return kExitFailure;
  }
  out << "simulate: all hooks succeeded\n";
  return kExitOk;
}

}  // namespace lastcall
