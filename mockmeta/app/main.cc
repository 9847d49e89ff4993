// mockmeta: the cloud in a box. Parses the command line and runs an App (app.h).
// Exit codes follow sysexits: 0 clean stop, 64 bad usage, 65 bad scenario, 69 cannot listen,
// 70 the server failed while running.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "mockmeta/app/app.h"

#ifndef LASTCALL_VERSION
#define LASTCALL_VERSION "0.0.0"
#endif

namespace {

using lastcall::Result;
using lastcall::Status;
namespace mock = lastcall::mock;

constexpr int kExitUsage = 64;
constexpr int kExitScenario = 65;
constexpr int kExitUnavailable = 69;
constexpr int kExitSoftware = 70;

constexpr std::string_view kUsage = R"(usage: mockmeta [options]

mockmeta plays the cloud for lastcalld: a simulated spot market (AWS Spot and Alibaba preemptible
instances) on a virtual clock, the instance metadata service (IMDS) of every simulated instance,
and a JSON control API to drive it. Logs go to stderr. When it is ready it prints one JSON line on
stdout with the actual addresses, e.g.
  {"imds":"127.0.0.1:8100","control":"127.0.0.1:8180","instances":{},...}

options:
  --scenario FILE              scenario TOML to load (default: a small built-in market;
                               see etc/scenarios/ and docs/mockmeta.md)
  --imds-listen ADDR:PORT      shared IMDS listener; reach an instance with a path prefix:
                               http://ADDR:PORT/<instance-id>/latest/meta-data/
                               (repeatable; default 127.0.0.1:8100; port 0 picks a free port)
  --imds-listen-instance ID=ADDR:PORT
                               a listener serving instance ID, and only it, without a prefix
                               (repeatable; what SDKs that build the token URL from the host
                               need, see docs/mockmeta-imds.md)
  --control-listen ADDR:PORT   control API listener (default 127.0.0.1:8180)
  --ec2-listen ADDR:PORT       EC2 Query API listener for the AWS CLI, boto3 and the AWS SDKs
                               (default 127.0.0.1:8190; docs/mockmeta-ec2.md)
  --aws-credentials FILE       verify EC2 request signatures against the keys in FILE (the AWS
                               CLI's credentials format); default: any access key is accepted
  --ecs-listen ADDR:PORT       Alibaba Cloud ECS API listener for the Alibaba SDKs
                               (default 127.0.0.1:8191; docs/mockmeta-ecs.md)
  --alibaba-credentials FILE   verify ECS request signatures against the keys in FILE (aliyun
                               CLI config.json format); default: any access key is accepted
  --clock MODE                 realtime (default), speed=N (N times real time, 0.001..1e6),
                               or manual (only the control API moves time)
  --seed N                     overrides the scenario's seed (prices, ids, fault draws)
  --log-level LEVEL            debug, info (default), warning, error
  --ready-file FILE            also write the ready JSON line to FILE (atomically)
  --help                       this text
  --version                    print the version

examples:
  mockmeta --clock speed=60 --scenario etc/scenarios/market-basics.toml
  curl -s 127.0.0.1:8180/v1/clock
  curl -s -XPOST 127.0.0.1:8180/v1/clock/advance -d '{"by":"10m"}'
  curl -s '127.0.0.1:8180/v1/events?cursor=0&wait=30s'
The control API is described in docs/mockmeta-api.md.

exit status: 0 stopped by SIGINT/SIGTERM, 64 bad usage, 65 bad scenario, 69 cannot listen,
70 failed while running.
)";

int UsageError(const std::string& message) {
  std::cerr << "mockmeta: " << message << "\n(run mockmeta --help for usage)\n";
  return kExitUsage;
}

// What the command line asks for.
struct CommandLine {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  mock::AppOptions options;
  mock::LogLevel level = mock::LogLevel::kInfo;
  bool imds_given = false;  // the first --imds-listen replaces the default listener
};

// The flags that take a value ("--flag VALUE" or "--flag=VALUE").
bool TakesValue(const std::string& flag) {
  static const std::vector<std::string> kWithValue = {
      "--scenario",        "--imds-listen", "--imds-listen-instance",
      "--control-listen",  "--clock",       "--seed",
      "--log-level",       "--ready-file",  "--ec2-listen",
      "--aws-credentials", "--ecs-listen",  "--alibaba-credentials"};
  for (const std::string& k : kWithValue) {
    if (k == flag) return true;
  }
  return false;
}

// A listener flag (--imds-listen, --imds-listen-instance, --control-listen, --ec2-listen,
// --ecs-listen) into `cl`; the usage error if the value is bad.
Status ApplyListenFlag(const std::string& flag, const std::string& value, CommandLine& cl) {
  mock::AppOptions& options = cl.options;
  if (flag == "--imds-listen-instance") {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0) {
      return lastcall::InvalidArgument("--imds-listen-instance \"" + value +
                                       "\": expected ID=ADDR:PORT");
    }
    Result<mock::ListenAddress> a = mock::ParseListenAddress(value.substr(eq + 1));
    if (!a.ok()) return lastcall::InvalidArgument(flag + " " + a.status().message());
    options.instance_listen.emplace_back(value.substr(0, eq), *a);
    return Status::Ok();
  }
  Result<mock::ListenAddress> a = mock::ParseListenAddress(value);
  if (!a.ok()) return lastcall::InvalidArgument(flag + " " + a.status().message());
  if (flag == "--imds-listen") {
    if (!cl.imds_given) options.imds_listen.clear();
    cl.imds_given = true;
    options.imds_listen.push_back(*a);
  } else if (flag == "--ecs-listen") {
    options.ecs_listen = *a;
  } else if (flag == "--control-listen") {
    options.control_listen = *a;
  } else {
    options.ec2_listen = *a;
  }
  return Status::Ok();
}

bool IsListenFlag(const std::string& flag) {
  return flag == "--imds-listen" || flag == "--imds-listen-instance" ||
         flag == "--control-listen" || flag == "--ec2-listen" || flag == "--ecs-listen";
}

// One flag with its value into `cl`; the usage error if the value is bad.
Status ApplyFlag(const std::string& flag, const std::string& value, CommandLine& cl) {
  mock::AppOptions& options = cl.options;
  if (IsListenFlag(flag)) return ApplyListenFlag(flag, value, cl);
  if (flag == "--scenario") {
    if (value.empty()) return lastcall::InvalidArgument("--scenario needs a file name");
    options.scenario_path = value;
  } else if (flag == "--alibaba-credentials") {
    Result<mock::ecs::CredentialMap> c = mock::ecs::LoadAlibabaCredentials(value);
    if (!c.ok()) return lastcall::InvalidArgument(flag + ": " + c.status().message());
    options.alibaba_credentials = std::move(*c);
  } else if (flag == "--aws-credentials") {
    Result<mock::ec2::CredentialMap> c = mock::ec2::LoadCredentials(value);
    if (!c.ok()) return lastcall::InvalidArgument(flag + ": " + c.status().message());
    options.aws_credentials = std::move(*c);
  } else if (flag == "--clock") {
    Result<mock::ClockSpec> spec = mock::ParseClockSpec(value);
    if (!spec.ok()) return lastcall::InvalidArgument(flag + " " + spec.status().message());
    options.clock = *spec;
  } else if (flag == "--seed") {
    uint64_t seed = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seed);
    if (value.empty() || ec != std::errc() || p != value.data() + value.size()) {
      return lastcall::InvalidArgument("--seed \"" + value + "\": expected a non-negative integer");
    }
    options.seed = seed;
  } else if (flag == "--log-level") {
    Result<mock::LogLevel> l = mock::ParseLogLevel(value);
    if (!l.ok()) return lastcall::InvalidArgument(flag + ": " + l.status().message());
    cl.level = *l;
  } else if (flag == "--ready-file") {
    if (value.empty()) return lastcall::InvalidArgument("--ready-file needs a file name");
    options.ready_file = value;
  }
  return Status::Ok();
}

// The command line; the error's message is the usage error to print.
Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      cl.action = CommandLine::Action::kHelp;
      return cl;
    }
    if (flag == "--version") {
      cl.action = CommandLine::Action::kVersion;
      return cl;
    }
    if (!TakesValue(flag)) return lastcall::InvalidArgument("unknown option \"" + args[i] + "\"");
    if (!has_value) {
      if (i + 1 >= args.size()) return lastcall::InvalidArgument(flag + " needs a value");
      value = args[++i];
    }
    LASTCALL_RETURN_IF_ERROR(ApplyFlag(flag, value, cl));
  }
  return cl;
}

// Builds and runs the App until SIGINT/SIGTERM; the exit status.
int Run(CommandLine cl) {
  mock::Logger log(cl.level);
  auto created = mock::App::Create(lastcall::SystemClock::Instance(), std::move(cl.options), log);
  if (auto* error = std::get_if<mock::App::Error>(&created)) {
    if (error->scenario) {
      log.Log(mock::LogLevel::kError, "cannot load scenario: " + error->status.message());
      return kExitScenario;
    }
    log.Log(mock::LogLevel::kError, error->status.message());
    return kExitUnavailable;
  }
  auto& app = std::get<std::unique_ptr<mock::App>>(created);
  if (Status s = app->WriteReadyFile(); !s.ok()) {
    log.Log(mock::LogLevel::kError, s.message());
    return kExitUnavailable;
  }
  std::cout << app->ReadyJson() << std::endl;
  Status s = app->Run();
  if (!s.ok()) {
    log.Log(mock::LogLevel::kError, s.message());
    return kExitSoftware;
  }
  return 0;
}

int Main(int argc, char** argv) {
  Result<CommandLine> cl = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!cl.ok()) return UsageError(cl.status().message());
  switch (cl->action) {
    case CommandLine::Action::kHelp:
      std::cout << kUsage;
      return 0;
    case CommandLine::Action::kVersion:
      std::cout << "mockmeta " << LASTCALL_VERSION << "\n";
      return 0;
    case CommandLine::Action::kRun:
      break;
  }
  cl->options.version = LASTCALL_VERSION;
  return Run(std::move(cl).value());
}

}  // namespace

int main(int argc, char** argv) {
  // Errors are values everywhere below; this only keeps an unexpected std::bad_alloc (or a
  // library throwing where it should not) from ending in std::terminate without a word.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mockmeta: error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "mockmeta: error: unknown exception\n";
  }
  return kExitSoftware;
}
