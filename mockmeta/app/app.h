// App: one mockmeta process: the scenario's Market behind a MarketHost, the IMDS listeners
// (shared, and one per instance), the control listener, and the timer that keeps virtual time
// moving when nobody asks. main.cc only parses flags and calls Create / Run.
//
// Startup is all or nothing: the scenario loads and every listener binds before Create()
// returns, so the ready line (ReadyJson) carries the actual ports (port 0 picks one).
// Run() serves until Stop() or SIGINT/SIGTERM, then answers parked long polls and returns.
//
// Thread-safety: Create and Run from one thread; Stop() from any thread. Internally: the server's
// io thread and the ticker thread share the MarketHost (one mutex) and the ControlApi.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/control/control_api.h"
#include "mockmeta/core/virtual_clock.h"
#include "mockmeta/ec2api/ec2_api.h"
#include "mockmeta/ecsapi/ecs_api.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/http/http_server.h"
#include "mockmeta/imds/fault_table.h"
#include "mockmeta/imds/imds_router.h"
#include "mockmeta/imds/market_directory.h"
#include "mockmeta/imds/token_store.h"

namespace lastcall::mock {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
Result<LogLevel> ParseLogLevel(std::string_view s);

// Lines to stderr ("mockmeta: info: ..."); below the level they are dropped. Thread-safe.
class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::kInfo) : level_(level) {}
  void Log(LogLevel level, std::string_view message) const;
  bool Enabled(LogLevel level) const { return level >= level_; }

 private:
  LogLevel level_;
  mutable std::mutex mu_;
};

struct ListenAddress {
  std::string address;  // "127.0.0.1", "::1"
  unsigned short port = 0;
};
// "127.0.0.1:8100", "[::1]:0", "localhost:80" is rejected (addresses only).
Result<ListenAddress> ParseListenAddress(std::string_view s);

// The built-in market used without --scenario (zones, types and pools of both clouds).
std::string_view DefaultScenarioToml();

struct AppOptions {
  std::string scenario_path;  // empty: DefaultScenarioToml()
  std::vector<ListenAddress> imds_listen = {{"127.0.0.1", 8100}};
  std::vector<std::pair<std::string, ListenAddress>> instance_listen;  // id -> address
  ListenAddress control_listen = {"127.0.0.1", 8180};
  ListenAddress ec2_listen = {"127.0.0.1", 8190};  // the EC2 Query API (docs/mockmeta-ec2.md)
  // EC2 signatures are verified against these (access key -> secret); nullopt: any key passes.
  std::optional<ec2::CredentialMap> aws_credentials;
  ListenAddress ecs_listen = {"127.0.0.1", 8191};  // the ECS API (docs/mockmeta-ecs.md)
  // ECS signatures are verified against these (access key -> secret); nullopt: any key passes.
  std::optional<ecs::CredentialMap> alibaba_credentials;
  ClockSpec clock;
  std::optional<uint64_t> seed;
  std::string ready_file;  // written (atomically) once listening
  Duration tick = std::chrono::milliseconds(50);
  std::string version;
};

class App {
 public:
  // Errors: kInvalidArgument/kNotFound/kDataLoss for the scenario (exit 65), kUnavailable or
  // kInvalidArgument naming a listener for addresses (exit 69).
  struct Error {
    Status status;
    bool scenario = false;  // true: the scenario is at fault, else a listener
  };
  static std::variant<std::unique_ptr<App>, Error> Create(const Clock& host, AppOptions options,
                                                          const Logger& log);
  ~App();

  // {"imds":"127.0.0.1:8100","imds_all":[...],"control":"127.0.0.1:8180",
  //  "ec2":"127.0.0.1:8190","ecs":"127.0.0.1:8191","instances":{...},"pid":N}
  std::string ReadyJson() const;
  // Writes the ready file, if one was asked for.
  Status WriteReadyFile() const;
  Status Run();
  void Stop();

 private:
  App(const Clock& host, AppOptions options, const Logger& log, std::unique_ptr<World> world);
  // Create()'s steps: each binds its listeners (a bind error is the App::Error's status).
  Status BindImds();
  Status BindInstances();
  Status BindControl();
  Status BindCloudApis();
  // Raises the open-file limit (RaiseOpenFileLimit); warns when it stays below what the
  // listeners' connection caps add up to.
  void RaiseFileLimitOrWarn() const;
  void TickerLoop();

  AppOptions options_;
  const Logger& log_;
  MarketHost host_;
  VirtualTimeClock virtual_clock_;
  MarketDirectory directory_;
  TokenStore tokens_;
  FaultTable faults_;
  ImdsRouter imds_;
  ControlApi control_;
  ec2::Ec2Api ec2_;
  ecs::EcsApi ecs_;
  std::vector<BoundListener> imds_bound_;
  std::vector<std::pair<std::string, BoundListener>> instance_bound_;
  BoundListener control_bound_;
  BoundListener ec2_bound_;
  BoundListener ecs_bound_;
  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool tick_stop_ = false;
  // Last: destroyed first, while everything its handlers use still exists.
  HttpServer server_;
};

}  // namespace lastcall::mock
