// notice_burst_bench: what the poll loop pays when many notices arrive at once (issue 11 item 5).
//
// The real NoticeHandlerImpl with a real state directory and real hook processes: N maintenance
// notices a day ahead (only notify runs, as in the e2e test), three notify hooks that each sleep
// a little. Per round it times the Update() that first sees the N notices (the poll that
// records them), then the next polls every `interval` while their hooks run, and samples the
// process's thread count. Prints percentiles over the rounds; results in bench/RESULTS.md.
//
// Usage: notice_burst_bench [--notices N] [--rounds R] [--max-concurrent K] [--hook-sleep S]
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/actions/notice_handler_impl.h"
#include "agent/base/log.h"
#include "common/clock.h"

namespace lastcall {
namespace {

struct Args {
  int notices = 400;
  int rounds = 10;
  int max_concurrent = 8;
  std::string hook_sleep = "0.02";
  Duration interval = std::chrono::milliseconds(100);
};

// Threads of this process now (/proc/self/status).
int ThreadCount() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Drops log lines: the bench measures the handler, not the terminal.
class NullSink final : public LogSink {
 public:
  void Write(LogPriority, std::string_view, const LogFields&) override {}
};

void WriteHook(const std::string& path, const std::string& sleep) {
  std::ofstream(path) << "#!/bin/sh\nsleep " << sleep << "\n";
  ::chmod(path.c_str(), 0755);
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

struct Round {
  double first_poll_ms = 0;
  double max_later_poll_ms = 0;
  int peak_threads = 0;
  double hooks_done_s = 0;
};

// nullopt (after a message) when the handler cannot be created.
std::optional<Round> RunRound(const Args& args, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  for (const char* phase : {"checkpoint", "drain", "notify", "resume"}) {
    fs::create_directories(dir + "/hooks.d/" + phase);
  }
  for (const char* name : {"10-a", "20-b", "30-c"}) {
    WriteHook(dir + "/hooks.d/notify/" + name, args.hook_sleep);
  }
  Config config;
  config.state_dir = dir + "/state";
  config.hooks.hooks_dir = dir + "/hooks.d";
  config.hooks.max_concurrent = static_cast<size_t>(args.max_concurrent);
  const Clock& clock = SystemClock::Instance();
  NoticeHandlerImpl::Options options;
  options.allowed_owners = {0, ::getuid()};
  auto handler = NoticeHandlerImpl::Create(config, clock, nullptr, options);
  if (!handler.ok()) {
    std::cerr << "cannot create the handler: " << handler.status().ToString() << "\n";
    return std::nullopt;
  }
  NoticeHandlerImpl& h = **handler;
  h.SetIdentity({"i-0abc1234", "m5.large", "us-east-1a", "us-east-1", "aws"});

  PollResult poll;
  poll.server_date = clock.Now();
  for (int i = 0; i < args.notices; ++i) {
    Notice n;
    n.provider = "aws";
    n.kind = NoticeKind::kMaintenance;
    n.action = "system-reboot";
    n.event_id = "e-" + std::to_string(i);
    n.id = MakeNoticeId("aws", n.kind, n.event_id);
    n.deadline = clock.Now() + std::chrono::hours(24);
    n.source = "events/maintenance/scheduled";
    poll.notices.push_back(std::move(n));
  }
  h.Update(PollResult{{}, {}, clock.Now()}, clock.Now());  // a quiet poll first

  Round round;
  const auto start = std::chrono::steady_clock::now();
  h.Update(poll, clock.Now());
  round.first_poll_ms = Ms(std::chrono::steady_clock::now() - start);
  round.peak_threads = ThreadCount();
  // Later polls while the hooks run, until the handler is idle.
  while (!h.WaitIdle(args.interval)) {
    round.peak_threads = std::max(round.peak_threads, ThreadCount());
    const auto t0 = std::chrono::steady_clock::now();
    h.Update(poll, clock.Now());
    round.max_later_poll_ms =
        std::max(round.max_later_poll_ms, Ms(std::chrono::steady_clock::now() - t0));
  }
  round.hooks_done_s = Ms(std::chrono::steady_clock::now() - start) / 1000.0;
  handler->reset();
  fs::remove_all(dir);
  return round;
}

int Main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--notices") {
      args.notices = std::stoi(value);  // a bad number throws, not 0
    } else if (flag == "--rounds") {
      args.rounds = std::stoi(value);
    } else if (flag == "--max-concurrent") {
      args.max_concurrent = std::stoi(value);
    } else if (flag == "--hook-sleep") {
      args.hook_sleep = value;
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  SetLogSink(std::make_unique<NullSink>());
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir =
      std::string(tmp ? tmp : "/tmp") + "/notice_burst_bench." + std::to_string(::getpid());
  std::vector<double> first, later, threads, done;
  for (int r = 0; r < args.rounds; ++r) {
    std::optional<Round> result = RunRound(args, dir);
    if (!result) return 1;
    const Round& round = *result;
    first.push_back(round.first_poll_ms);
    later.push_back(round.max_later_poll_ms);
    threads.push_back(round.peak_threads);
    done.push_back(round.hooks_done_s);
  }
  std::printf("%d notices, 3 notify hooks each (sleep %s), max_concurrent %d, %d rounds\n",
              args.notices, args.hook_sleep.c_str(), args.max_concurrent, args.rounds);
  std::printf("first poll (records %d notices): p50 %.1f ms, max %.1f ms\n", args.notices,
              Percentile(first, 0.5), Percentile(first, 1.0));
  std::printf("slowest later poll per round:    p50 %.1f ms, max %.1f ms\n", Percentile(later, 0.5),
              Percentile(later, 1.0));
  std::printf("peak threads: p50 %.0f, max %.0f; hooks done in p50 %.2f s\n",
              Percentile(threads, 0.5), Percentile(threads, 1.0), Percentile(done, 0.5));
  return 0;
}

}  // namespace
}  // namespace lastcall

int main(int argc, char** argv) { return lastcall::Main(argc, argv); }
