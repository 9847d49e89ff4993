// Daemon: lastcalld's main loop. Polls the provider, feeds the notice handler, and keeps the
// service manager, the status file and the metrics informed.
//
// One thread runs Run(): it polls every interval (with jitter), backs off on errors by one
// RetryPolicy (errors logged once, recovery once), fetches the instance identity at start and
// again after failures, sends READY=1 once the first poll was tried, WATCHDOG=1 at half of
// WATCHDOG_USEC, STATUS= when it changes, writes <runtime_dir>/status.json atomically (no fsync:
// it is a runtime file on tmpfs) after a poll whose status content changed, and otherwise at
// most once per kStatusRefresh to keep the poll time and counters fresh, and the metrics
// textfile on its interval. Hooks run on the handler's threads, so
// none of this stops while they run. Waits are on a condition variable that RequestStop() and
// RequestReload() interrupt: a SIGTERM never waits for the poll interval.
//
// Signals are turned into those calls by SignalThread (a self-pipe read by a dedicated thread),
// so nothing but write(2) runs in a signal handler.
//
// Thread-safety: RequestStop, RequestReload and the accessors are safe from any thread; Run()
// is called once, from one thread. Every dependency must outlive the Daemon.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/actions/notice_handler.h"
#include "agent/base/config.h"
#include "agent/base/metrics.h"
#include "agent/base/provider.h"
#include "agent/runtime/effective_clock.h"
#include "agent/runtime/metrics_exporter.h"
#include "agent/runtime/retry_policy.h"
#include "agent/runtime/status_file.h"
#include "agent/systemd/sd_notify.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

struct DaemonDeps {
  const Clock* clock = nullptr;         // local clock (SystemClock in production)
  EffectiveClock* effective = nullptr;  // shared with the handler: deadlines use it
  Provider* provider = nullptr;
  NoticeHandler* handler = nullptr;
  Metrics* metrics = nullptr;
  Notifier* notifier = nullptr;
  // Loads the config again on SIGHUP. Empty: reload only re-applies the current config.
  std::function<Result<Config>()> reload;
  // Builds a provider for a reloaded config whose provider settings changed (provider, [aws],
  // [alibaba], [detect], poll.request_timeout). Empty: such changes wait for a restart.
  std::function<Result<std::unique_ptr<Provider>>(const Config&)> make_provider;
  // Uniform in [0, 1), for jitter. Empty: a seeded std::mt19937.
  std::function<double()> random;
};

class Daemon {
 public:
  // How stale the per-poll fields of status.json (last poll time, counters) may get while
  // nothing else changes.
  static constexpr Duration kStatusRefresh = std::chrono::seconds(1);

  Daemon(Config config, DaemonDeps deps);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until RequestStop(). Returns the process exit code (0).
  int Run();

  void RequestStop();
  void RequestReload();

  uint64_t polls() const { return polls_.load(); }
  uint64_t poll_errors() const { return poll_errors_.load(); }
  Config config() const;
  std::string status_path() const;
  uint16_t metrics_port() const;

 private:
  void Start();
  void PollOnce();
  void Reload();
  void ApplyConfig(const Config& config, bool initial);
  // Writes status.json when its content changed, or its per-poll fields are kStatusRefresh old.
  void WriteStatus(DaemonState state);
  DaemonStatus CollectStatus(DaemonState state, std::string config_path) const;
  Status WriteStatusFile(const std::string& runtime_dir, const std::string& text);
  void SendStatusIfChanged();
  std::string StatusLine() const;
  Duration NextPollDelay();

  DaemonDeps deps_;
  mutable std::mutex mu_;  // guards config_, the flags and cv_
  std::condition_variable cv_;
  Config config_;
  bool stop_requested_ = false;
  bool reload_requested_ = false;

  // Loop state: only the Run() thread touches these.
  Provider* provider_;  // deps_.provider, or owned_provider_ after a reload
  std::unique_ptr<Provider> owned_provider_;
  std::unique_ptr<MetricsExporter> exporter_;
  std::optional<Identity> identity_;
  bool need_identity_ = true;
  FailureEpisode poll_episode_;
  FailureEpisode identity_episode_;
  std::optional<PollResult> last_poll_;
  std::optional<WallTime> last_poll_time_;
  std::optional<WallTime> last_success_;
  std::string last_status_line_;
  bool status_write_failing_ = false;
  // status.json minus its per-poll fields (times, counters) as JSON, and when it was last written:
  // a poll that changes nothing else rewrites the file only after kStatusRefresh.
  std::string status_key_;
  std::optional<MonoTime> status_written_;
  std::string status_dir_made_;  // runtime dir already created (mkdir once, not per poll)
  std::atomic<uint64_t> polls_{0};
  std::atomic<uint64_t> poll_errors_{0};
  std::atomic<uint16_t> metrics_port_{0};
};

// Turns SIGHUP into RequestReload and SIGTERM/SIGINT into RequestStop. The handlers only write
// the signal number to a pipe; a thread reads it and calls the daemon. Signals are not blocked
// (a blocked mask would be inherited by hook processes and make them unkillable by SIGTERM).
// One instance per process; the destructor restores the default dispositions.
class SignalThread {
 public:
  explicit SignalThread(Daemon* daemon);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  int pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace lastcall
