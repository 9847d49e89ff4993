// lastcalld: the on-instance agent. Wiring only; the parts live in the agent libraries.
#include <iostream>
#include <string>
#include <vector>

#include "agent/cli.h"
#include "agent/config_loader.h"
#include "agent/daemon.h"
#include "agent/effective_clock.h"
#include "agent/journal_sink.h"
#include "agent/log.h"
#include "agent/sd_notify.h"

namespace lastcall {
namespace {

int RunDaemon(const CliOptions& options, Config config) {
  (void)options;
  (void)config;
  std::cerr << "lastcalld: this build has no providers yet\n";
  return kExitFailure;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<CliOptions> parsed = ParseCommandLine(args);
  if (!parsed.ok()) {
    std::cerr << "lastcalld: " << parsed.status().message() << "\n";
    return kExitUsage;
  }
  const CliOptions& options = *parsed;
  switch (options.command) {
    case CliCommand::kHelp:
      std::cout << UsageText();
      return kExitOk;
    case CliCommand::kVersion:
      std::cout << VersionText();
      return kExitOk;
    default:
      break;
  }
  Result<Config> config = LoadConfigFile(options.config_path, options.config_explicit);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return kExitConfig;
  }
  switch (options.command) {
    case CliCommand::kCheckConfig:
      if (options.verbose) std::cout << FormatConfig(*config) << "\n";
      std::cout << "ok\n";
      return kExitOk;
    case CliCommand::kStatus:
      return RunStatusCommand(options, *config, std::cout, std::cerr);
    case CliCommand::kSimulate:
      return RunSimulateCommand(options, *config, nullptr, SystemClock::Instance(), std::cout,
                                std::cerr);
    default:
      return RunDaemon(options, std::move(config).value());
  }
}

}  // namespace
}  // namespace lastcall

int main(int argc, char** argv) { return lastcall::Main(argc, argv); }
