// Cli: lastcalld's command line, and the commands that do not run the daemon loop.
//
//   lastcalld [--config FILE]                 run (the default)
//   lastcalld --check-config [--verbose]      validate; exit 0 "ok" or 78 with file:line:col
//   lastcalld status [--json]                 what the running daemon sees (status.json)
//   lastcalld simulate --kind K --in DUR [--action A]   run the hooks for a made-up notice
//   lastcalld --version | --help
//
// Parsing is a pure function from arguments to CliOptions so every flag error is tested; bad
// usage exits 64 (EX_USAGE), a bad config 78 (EX_CONFIG), as sysexits.h and systemd expect.
//
// Thread-safety: pure functions; the Run* commands are called once from main().
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "agent/actions/notice_handler.h"
#include "agent/base/config.h"
#include "agent/base/metrics.h"
#include "agent/runtime/status_file.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitNotRunning = 3;  // like `systemctl status` for an inactive unit
inline constexpr int kExitUsage = 64;      // EX_USAGE
inline constexpr int kExitConfig = 78;     // EX_CONFIG

enum class CliCommand { kRun, kCheckConfig, kStatus, kSimulate, kVersion, kHelp };

struct CliOptions {
  CliCommand command = CliCommand::kRun;
  std::string config_path;       // default kDefaultConfigPath
  bool config_explicit = false;  // --config given: a missing file is an error
  bool json = false;             // status --json
  bool verbose = false;          // --check-config --verbose prints the effective config
  NoticeKind kind = NoticeKind::kInterruption;  // simulate
  Duration in = std::chrono::seconds(120);      // simulate: deadline = now + in
  std::string action;                           // simulate: empty = the kind's usual action
};

// `args` excludes argv[0]. Errors are usage errors (message without the program name).
Result<CliOptions> ParseCommandLine(const std::vector<std::string>& args);
std::string UsageText();
std::string VersionText();

// status: reads <runtime_dir>/status.json. Returns the exit code.
int RunStatusCommand(const CliOptions& options, const Config& config, std::ostream& out,
                     std::ostream& err);
// Renders status.json for people; an error when it is not the daemon's status JSON.
std::string RenderStatus(const DaemonStatus& status);
Result<std::string> RenderStatus(const std::string& status_json);

// simulate: builds the handler (through `make_handler`, with state_dir pointed at a fresh
// temporary directory so real state is untouched), feeds it one made-up notice, waits until
// its hooks have run, prints what ran, and returns non-zero if a hook failed.
using HandlerFactory = std::function<std::unique_ptr<NoticeHandler>(
    const Config& config, const Clock& clock, Metrics& metrics)>;
// `wait_idle`, when given, blocks until the handler has no work left or the limit passes
// (NoticeHandlerImpl::WaitIdle); without it simulate feeds the notice until the handler has
// been quiet (no running hooks, unchanged StatusJson) for a while.
using WaitIdleFn = std::function<bool(NoticeHandler& handler, Duration limit)>;
int RunSimulateCommand(const CliOptions& options, Config config, const HandlerFactory& make_handler,
                       const Clock& clock, std::ostream& out, std::ostream& err,
                       const WaitIdleFn& wait_idle = nullptr);

// The notice `simulate` feeds: provider "simulate", instance "i-simulated".
Notice MakeSimulatedNotice(NoticeKind kind, const std::string& action, WallTime now, Duration in);

// Prints each non-zero lastcall_hook_runs_total series of `metrics` as "hook runs:
// {phase="drain",result="ok"} 1"; returns whether any of them has a result other than ok.
bool PrintHookRuns(const Metrics& metrics, std::ostream& out);

}  // namespace lastcall
