// lastcalld: the on-instance agent. Wiring only; the parts live in the agent libraries:
// providers (watch), actions (decide and act), runtime (config, systemd, CLI, the loop).
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "agent/actions/notice_handler_impl.h"
#include "agent/base/config_fields.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"
#include "agent/providers/cloud_detect.h"
#include "agent/providers/http_client.h"
#include "agent/runtime/cli.h"
#include "agent/runtime/config_loader.h"
#include "agent/runtime/daemon.h"
#include "agent/runtime/effective_clock.h"
#include "agent/systemd/journal_sink.h"
#include "agent/systemd/sd_notify.h"

namespace lastcall {
namespace {

constexpr std::string_view kIdentifier = "lastcalld";

int RunDaemon(const CliOptions& options, Config config) {
  const Clock& clock = SystemClock::Instance();
  EffectiveClock effective(clock, config.poll.clock_skew_threshold);
  Metrics metrics;
  SdNotifier notifier;
  // Before any thread and any request: without an https endpoint OpenSSL is set up for plain
  // http only (bench/RESULTS.md, "lastcalld footprint").
  InitHttpTransport(UsesHttps(config) ? TlsSetup::kFull : TlsSetup::kPlainHttpOnly);

  Result<std::unique_ptr<Provider>> provider = MakeProvider(config, clock);
  if (!provider.ok()) {
    Log(LogPriority::kErr, "cannot set up the metadata provider: " + provider.status().message());
    notifier.Notify(StatusMessage("failed: " + provider.status().message()));
    return kExitFailure;
  }
  // The handler reads the effective clock, so hook timeouts follow the server's time too.
  Result<std::unique_ptr<NoticeHandlerImpl>> handler =
      NoticeHandlerImpl::Create(config, effective, &metrics);
  if (!handler.ok()) {
    Log(LogPriority::kErr, "cannot set up the hook runner: " + handler.status().message());
    notifier.Notify(StatusMessage("failed: " + handler.status().message()));
    return kExitFailure;
  }

  DaemonDeps deps;
  deps.clock = &clock;
  deps.effective = &effective;
  deps.provider = provider->get();
  deps.handler = handler->get();
  deps.metrics = &metrics;
  deps.notifier = &notifier;
  deps.reload = [options] { return LoadConfigFile(options.config_path, options.config_explicit); };
  deps.make_provider = [&clock](const Config& c) { return MakeProvider(c, clock); };
  Daemon daemon(std::move(config), deps);
  SignalThread signals(&daemon);
  return daemon.Run();
}

int Simulate(const CliOptions& options, const Config& config) {
  HandlerFactory make = [](const Config& c, const Clock& clock,
                           Metrics& metrics) -> std::unique_ptr<NoticeHandler> {
    Result<std::unique_ptr<NoticeHandlerImpl>> h = NoticeHandlerImpl::Create(c, clock, &metrics);
    if (!h.ok()) {
      std::cerr << "simulate: " << h.status().message() << "\n";
      return nullptr;
    }
    return std::move(h).value();
  };
  WaitIdleFn wait = [](NoticeHandler& h, Duration limit) {
    return static_cast<NoticeHandlerImpl&>(h).WaitIdle(limit);
  };
  return RunSimulateCommand(options, config, make, SystemClock::Instance(), std::cout, std::cerr,
                            wait);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<CliOptions> parsed = ParseCommandLine(args);
  if (!parsed.ok()) {
    std::cerr << "lastcalld: " << parsed.status().message() << "\n";
    return kExitUsage;
  }
  const CliOptions& options = *parsed;
  if (options.command == CliCommand::kHelp) {
    std::cout << UsageText();
    return kExitOk;
  }
  if (options.command == CliCommand::kVersion) {
    std::cout << VersionText();
    return kExitOk;
  }
  if (options.command == CliCommand::kRun) {
    SetLogSink(MakeDefaultSink(std::string(kIdentifier)));
  }
  Result<Config> config = LoadConfigFile(options.config_path, options.config_explicit);
  if (!config.ok()) {
    if (options.command == CliCommand::kRun) {
      Log(LogPriority::kErr, config.status().message());
    } else {
      std::cerr << config.status().message() << "\n";
    }
    return kExitConfig;
  }
  if (auto level = ParseLogLevel(config->log_level)) SetLogLevel(*level);
  switch (options.command) {
    case CliCommand::kCheckConfig:
      if (options.verbose) std::cout << FormatConfig(*config) << "\n";
      std::cout << "ok\n";
      return kExitOk;
    case CliCommand::kStatus:
      return RunStatusCommand(options, *config, std::cout, std::cerr);
    case CliCommand::kSimulate:
      return Simulate(options, *config);
    default:
      return RunDaemon(options, std::move(config).value());
  }
}

}  // namespace
}  // namespace lastcall

int main(int argc, char** argv) {
  // Errors are values everywhere below; this only keeps an unexpected std::bad_alloc (or a
  // library throwing where it should not) from ending in std::terminate without a word.
  try {
    return lastcall::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "lastcalld: error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "lastcalld: error: unknown exception\n";
  }
  return lastcall::kExitFailure;
}
