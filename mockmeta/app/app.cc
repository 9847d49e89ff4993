#include "mockmeta/app/app.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "mockmeta/core/scenario.h"

namespace lastcall::mock {
namespace {

std::string FormatAddress(const std::string& address, unsigned short port) {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Body limit of the server: a scenario upload plus room for headers of a chunked body.
constexpr size_t kServerBodyLimit = kMaxScenarioBody + size_t{64} * 1024;

// Connection caps, per listener (docs/security.md, "mockmeta"): a flood of IMDS connections
// fills only the IMDS listener's slots, and the control listener keeps its own (more than its
// parked long polls, ControlApiOptions::max_waiters).
constexpr size_t kImdsMaxConnections = 1024;
constexpr size_t kControlMaxConnections = 512;
constexpr size_t kEc2MaxConnections = 512;  // the EC2 API (SDK clients keep a small pool each)
constexpr size_t kEcsMaxConnections = 512;  // the ECS API: SDK clients, no long polls

// Raises the soft open-file limit to the hard one: with the common soft limit of 1024, a flood
// on one listener would run the process out of descriptors and starve the others' accepts even
// with separate caps. Returns the limit in force.
rlim_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warning" || s == "warn") return LogLevel::kWarning;
  if (s == "error") return LogLevel::kError;
  return InvalidArgument("log level \"" + std::string(s) +
                         "\" is not one of debug, info, warning, error");
}

void Logger::Log(LogLevel level, std::string_view message) const {
  if (!Enabled(level)) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::cerr << "mockmeta: " << LevelName(level) << ": " << message << '\n' << std::flush;
}

Result<ListenAddress> ParseListenAddress(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("\"" + std::string(s) + "\": " + why +
                           " (expected ADDR:PORT, e.g. 127.0.0.1:8100 or [::1]:0)");
  };
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return bad("unterminated IPv6 address");
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("put IPv6 addresses in brackets");
  }
  if (host.empty()) return bad("no address");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos) {
    return bad("port must be a number in 0..65535");
  }
  const int p = std::stoi(std::string(port));
  if (p > 65535) return bad("port must be a number in 0..65535");
  return ListenAddress{std::string(host), static_cast<unsigned short>(p)};
}

std::string_view DefaultScenarioToml() {
  return R"toml(# mockmeta's built-in default: one AWS-style and one Alibaba-style pool.
seed = 1
start = "2026-04-07T00:00:00Z"

[[zone]]
name = "us-east-1a"
region = "us-east-1"

[[zone]]
name = "cn-hangzhou-b"
region = "cn-hangzhou"

[[instance_type]]
name = "m5.large"
vcpu = 2
memory_gib = 8
on_demand_price = 0.096

[[instance_type]]
name = "ecs.c5.8xlarge"
vcpu = 32
memory_gib = 64
on_demand_price = 1.52

[[pool]]
type = "m5.large"
zone = "us-east-1a"
capacity = 50
price = 0.035
[pool.model]
kind = "walk"
step = "5m"
mean = 0.035
floor = 0.02
volatility = 0.05

[[pool]]
type = "ecs.c5.8xlarge"
zone = "cn-hangzhou-b"
capacity = 20
price = 0.152
[pool.model]
kind = "fixed"
)toml";
}

App::App(const Clock& host, AppOptions options, const Logger& log, std::unique_ptr<World> world)
    : options_(std::move(options)),
      log_(log),
      host_(host, std::move(world), options_.clock),
      virtual_clock_(host_),
      directory_(host_),
      tokens_(virtual_clock_, options_.seed.value_or(
                                  host_.With([](Market& m, VirtualClock&) { return m.seed(); }))),
      faults_(options_.seed.value_or(1)),
      imds_(directory_, tokens_, faults_),
      control_(host_, directory_, tokens_, faults_,
               ControlApiOptions{.version = options_.version,
                                 .scenario = ScenarioOptions{options_.seed}}),
      ec2_(host_, ec2::Ec2ApiOptions{.credentials = options_.aws_credentials,
                                     .on_change = [this] { control_.Tick(); }}),
      ecs_(host_, ecs::EcsApiOptions{.credentials = options_.alibaba_credentials,
                                     .on_change = [this] { control_.Tick(); }}),
      server_(virtual_clock_, HttpServerOptions{.body_limit = kServerBodyLimit}) {}

App::~App() = default;

std::variant<std::unique_ptr<App>, App::Error> App::Create(const Clock& host, AppOptions options,
                                                           const Logger& log) {
  ScenarioOptions scenario_options{options.seed};
  Result<std::unique_ptr<World>> world =
      options.scenario_path.empty()
          ? LoadScenarioText(DefaultScenarioToml(), "<built-in default>", scenario_options)
          : LoadScenarioFile(options.scenario_path, scenario_options);
  if (!world.ok()) return Error{world.status(), true};
  std::unique_ptr<App> app(new App(host, std::move(options), log, std::move(world).value()));
  for (Status (App::*bind)() :
       {&App::BindImds, &App::BindInstances, &App::BindControl, &App::BindCloudApis}) {
    if (Status s = (app.get()->*bind)(); !s.ok()) return Error{s, false};
  }
  app->RaiseFileLimitOrWarn();
  app->server_.EnableSignalHandling();
  return app;
}

Status App::BindImds() {
  int n = 0;
  for (const ListenAddress& a : options_.imds_listen) {
    ListenerSpec spec{.name = n == 0 ? "imds" : "imds-" + std::to_string(n),
                      .address = a.address,
                      .port = a.port,
                      .handler = imds_.AsHandler(),
                      .max_connections = kImdsMaxConnections};
    ++n;
    Result<BoundListener> b = server_.AddListener(std::move(spec));
    if (!b.ok()) return b.status();
    imds_bound_.push_back(*b);
  }
  return Status::Ok();
}

Status App::BindInstances() {
  for (const auto& [id, a] : options_.instance_listen) {
    // The listener is named after its instance; prefix-less requests on it are that instance's.
    directory_.BindListener(id, id);
    Result<BoundListener> b = server_.AddListener({.name = id,
                                                   .address = a.address,
                                                   .port = a.port,
                                                   .handler = imds_.AsHandler(),
                                                   .max_connections = kImdsMaxConnections});
    if (!b.ok()) return b.status();
    instance_bound_.emplace_back(id, *b);
    const bool exists = host_.With(
        [&, &iid = id](Market& m, VirtualClock&) { return m.FindInstance(iid) != nullptr; });
    if (!exists) {
      log_.Log(LogLevel::kWarning, "--imds-listen-instance: instance " + id +
                                       " does not exist (yet); its listener answers 404 until it "
                                       "does");
    }
  }
  return Status::Ok();
}

Status App::BindControl() {
  AsyncHttpHandler control = [this](const HttpRequest& req, const RequestContext& ctx,
                                    HttpResponder respond) {
    if (log_.Enabled(LogLevel::kDebug)) {
      // Log the answer's status: wrap the responder.
      respond = [this, line = "control " + req.method + " " + req.target,
                 inner = std::move(respond)](HttpResponse r) {
        log_.Log(LogLevel::kDebug, line + " -> " + std::to_string(r.status));
        inner(std::move(r));
      };
    }
    control_.Handle(req, ctx, respond);
  };
  Result<BoundListener> c = server_.AddAsyncListener({.name = "control",
                                                      .address = options_.control_listen.address,
                                                      .port = options_.control_listen.port,
                                                      .handler = {},
                                                      .max_connections = kControlMaxConnections},
                                                     std::move(control));
  if (!c.ok()) return c.status();
  control_bound_ = *c;
  return Status::Ok();
}

Status App::BindCloudApis() {
  Result<BoundListener> e = server_.AddListener({.name = "ec2",
                                                 .address = options_.ec2_listen.address,
                                                 .port = options_.ec2_listen.port,
                                                 .handler = ec2_.AsHandler(),
                                                 .max_connections = kEc2MaxConnections});
  if (!e.ok()) return e.status();
  ec2_bound_ = *e;
  Result<BoundListener> ecs = server_.AddListener({.name = "ecs",
                                                   .address = options_.ecs_listen.address,
                                                   .port = options_.ecs_listen.port,
                                                   .handler = ecs_.AsHandler(),
                                                   .max_connections = kEcsMaxConnections});
  if (!ecs.ok()) return ecs.status();
  ecs_bound_ = *ecs;
  return Status::Ok();
}

void App::RaiseFileLimitOrWarn() const {
  const rlim_t files = RaiseOpenFileLimit();
  const size_t wanted = kImdsMaxConnections * (imds_bound_.size() + instance_bound_.size()) +
                        kControlMaxConnections + kEc2MaxConnections + kEcsMaxConnections + 64;
  if (files != RLIM_INFINITY && files < wanted) {
    log_.Log(LogLevel::kWarning,
             "the open-file limit (" + std::to_string(files) + ") is below the listeners' " +
                 "connection caps (" + std::to_string(wanted) +
                 "): a connection flood on one listener can starve the others; raise it "
                 "(ulimit -n, LimitNOFILE=)");
  }
}

std::string App::ReadyJson() const {
  nlohmann::json all = nlohmann::json::array();
  for (const BoundListener& b : imds_bound_) all.push_back(FormatAddress(b.address, b.port));
  nlohmann::json instances = nlohmann::json::object();
  for (const auto& [id, b] : instance_bound_) instances[id] = FormatAddress(b.address, b.port);
  nlohmann::json j = {{"imds", all.empty() ? nlohmann::json(nullptr) : all[0]},
                      {"imds_all", all},
                      {"control", FormatAddress(control_bound_.address, control_bound_.port)},
                      {"ec2", FormatAddress(ec2_bound_.address, ec2_bound_.port)},
                      {"ecs", FormatAddress(ecs_bound_.address, ecs_bound_.port)},
                      {"instances", instances},
                      {"pid", static_cast<long>(::getpid())}};
  return j.dump();
}

Status App::WriteReadyFile() const {
  if (options_.ready_file.empty()) return Status::Ok();
  // Atomic (a reader never sees half a line); no fsync: a test harness reads it right away,
  // and after a crash the file names ports nobody listens on anyway.
  Status st = WriteFileAtomically(options_.ready_file, ReadyJson() + "\n", {.sync = false});
  if (!st.ok()) return st.WithContext("--ready-file");
  return Status::Ok();
}

void App::TickerLoop() {
  std::unique_lock<std::mutex> lock(tick_mu_);
  Status last = Status::Ok();
  while (!tick_stop_) {
    tick_cv_.wait_for(lock, options_.tick, [this] { return tick_stop_; });
    if (tick_stop_) break;
    lock.unlock();
    // Catch up in slices, letting requests take the lock between them, until the market has
    // reached the clock or the server stops (a long advance must not delay SIGTERM).
    for (;;) {
      const bool caught_up = host_.Tick();
      control_.Tick();
      if (caught_up) break;
      std::lock_guard<std::mutex> stop_lock(tick_mu_);
      if (tick_stop_) break;
    }
    Status engine = host_.last_error();
    if (!(engine == last)) {
      if (!engine.ok()) log_.Log(LogLevel::kError, "market engine: " + engine.ToString());
      last = engine;
    }
    lock.lock();
  }
}

Status App::Run() {
  log_.Log(LogLevel::kInfo, "serving: " + ReadyJson());
  std::thread ticker([this] { TickerLoop(); });
  Status s = server_.Run();
  {
    std::lock_guard<std::mutex> lock(tick_mu_);
    tick_stop_ = true;
  }
  tick_cv_.notify_all();
  ticker.join();
  control_.CancelWaiters();
  log_.Log(LogLevel::kInfo, "stopped");
  return s;
}

void App::Stop() { server_.Stop(); }

}  // namespace lastcall::mock
