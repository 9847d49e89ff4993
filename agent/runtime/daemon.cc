#include "agent/runtime/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <random>

#include "agent/base/config_fields.h"
#include "agent/base/log.h"
#include "agent/base/metric_catalog.h"
#include "common/escape.h"
#include "common/files.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

std::string JoinErrors(const std::vector<Status>& errors) {
  std::string out;
  for (const Status& s : errors) {
    if (!out.empty()) out += "; ";
    out += s.message().empty() ? std::string(StatusCodeName(s.code())) : s.message();
  }
  return out;
}

}  // namespace

Daemon::Daemon(Config config, DaemonDeps deps)
    : deps_(std::move(deps)), config_(std::move(config)), provider_(deps_.provider) {
  if (!deps_.random) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    deps_.random = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  }
  // Every family and known series at 0 from the first export on.
  DeclareLastcallMetrics(*deps_.metrics);
}

Daemon::~Daemon() = default;

Config Daemon::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::string Daemon::status_path() const {
  std::lock_guard lock(mu_);
  return config_.runtime_dir + "/status.json";
}

uint16_t Daemon::metrics_port() const { return metrics_port_.load(); }

void Daemon::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void Daemon::RequestReload() {
  {
    std::lock_guard lock(mu_);
    reload_requested_ = true;
  }
  cv_.notify_all();
}

void Daemon::ApplyConfig(const Config& config, bool initial) {
  if (auto level = ParseLogLevel(config.log_level)) SetLogLevel(*level);
  deps_.effective->SetThreshold(config.poll.clock_skew_threshold);
  if (!exporter_) exporter_ = std::make_unique<MetricsExporter>(*deps_.metrics, *deps_.clock);
  Status st = exporter_->Configure(config.metrics);
  // Metrics are not worth dying for: the daemon's job is the hooks.
  if (!st.ok()) Log(LogPriority::kErr, st.message() + "; running without the metrics listener");
  metrics_port_ = exporter_->http_port();
  if (!initial) deps_.handler->Reconfigure(config);
  std::lock_guard lock(mu_);
  config_ = config;
}

Duration Daemon::NextPollDelay() {
  // Only the poll options, not a copy of the whole config (hooks, paths) every poll.
  PollOptions p;
  {
    std::lock_guard lock(mu_);
    p = config_.poll;
  }
  if (poll_episode_.failing()) {
    RetryPolicy backoff{p.interval, p.max_backoff, 2.0, p.jitter};
    return backoff.Delay(poll_episode_.failures(), deps_.random);
  }
  RetryPolicy steady{p.interval, p.interval, 1.0, p.jitter};
  return steady.Delay(1, deps_.random);
}

void Daemon::PollOnce() {
  if (need_identity_) {
    Result<Identity> id = provider_->FetchIdentity();
    if (id.ok()) {
      // The handler decides what to believe (a different identity only after repeated reads);
      // while it is unsure, the identity is read again every poll.
      deps_.handler->SetIdentity(*id);
      need_identity_ = deps_.handler->IdentityPending();
      if (!need_identity_ && (!identity_ || !(*identity_ == *id))) {
        Log(LogPriority::kInfo, "instance identity",
            {{"instance_id", id->instance_id},
             {"instance_type", id->instance_type},
             {"zone", id->zone},
             {"region", id->region}});
        identity_ = *id;
      }
      if (auto rec = identity_episode_.Succeed(deps_.clock->Monotonic())) {
        Log(LogPriority::kNotice, "instance identity read " + *rec);
      }
    } else if (identity_episode_.Fail(deps_.clock->Monotonic(), id.status().message())) {
      Log(LogPriority::kWarning,
          "cannot read the instance identity (retrying with each poll): " + id.status().message());
    }
  }

  PollResult result = provider_->Poll();
  ++polls_;
  deps_.metrics->Increment(metric::kPolls);
  deps_.effective->Observe(result.server_date);
  WallTime now = deps_.effective->Now();
  deps_.handler->Update(result, now);
  last_poll_time_ = deps_.clock->Now();

  MonoTime mono = deps_.clock->Monotonic();
  if (result.ok()) {
    last_success_ = *last_poll_time_;
    deps_.metrics->Set(metric::kLastSuccessfulPoll, {},
                       static_cast<double>(ToUnixSeconds(*last_success_)));
    if (auto rec = poll_episode_.Succeed(mono)) {
      Log(LogPriority::kNotice, "metadata polls succeed again " + *rec,
          {{"provider", std::string(provider_->name())}});
    }
  } else {
    ++poll_errors_;
    deps_.metrics->Increment(metric::kPollErrors);
    std::string reason = JoinErrors(result.errors);
    if (poll_episode_.Fail(mono, reason)) {
      Log(LogPriority::kWarning, "metadata poll failed (backing off, logged once): " + reason,
          {{"provider", std::string(provider_->name())}});
    } else {
      Log(LogPriority::kDebug, "metadata poll failed again: " + reason);
    }
    // The instance may have been replaced or the endpoint moved: read identity again (what is
    // read is validated, and a different identity is believed only after repeated reads).
    need_identity_ = true;
  }
  last_poll_ = std::move(result);
  WriteStatus(DaemonState::kRunning);
  SendStatusIfChanged();
}

std::string Daemon::StatusLine() const {
  std::string s = "watching " + provider_->Describe();
  if (identity_) s += " on " + identity_->instance_id;
  if (!last_poll_) return s + "; no poll yet";
  s += "; last poll ";
  s += last_poll_->ok() ? "ok" : "failed: " + JoinErrors(last_poll_->errors);
  size_t active = 0;
  for (const Notice& n : last_poll_->notices) active += n.state == NoticeState::kActive;
  s += "; " + std::to_string(active) + (active == 1 ? " notice" : " notices");
  size_t hooks = deps_.handler->RunningHooks();
  if (hooks) s += "; " + std::to_string(hooks) + (hooks == 1 ? " hook running" : " hooks running");
  return s;
}

void Daemon::SendStatusIfChanged() {
  std::string line = StatusLine();
  if (line == last_status_line_) return;
  last_status_line_ = line;
  deps_.notifier->Notify(StatusMessage(line));
}

DaemonStatus Daemon::CollectStatus(DaemonState state, std::string config_path) const {
  DaemonStatus s;
  s.pid = static_cast<long>(::getpid());
  s.state = state;
  s.provider = std::string(provider_->name());
  s.watching = provider_->Describe();
  s.config = std::move(config_path);
  s.identity = identity_;
  s.updated = deps_.clock->Now();
  s.polls = polls_.load();
  s.poll_errors = poll_errors_.load();
  if (last_poll_) {
    PollStatus& p = s.last_poll.emplace();
    p.time = last_poll_time_;
    p.ok = last_poll_->ok();
    // Error messages quote what the metadata server sent: made valid UTF-8 here.
    for (const Status& e : last_poll_->errors) p.errors.push_back(ToValidUtf8(e.message()));
    p.notices = last_poll_->notices;
  }
  s.last_success = last_success_;
  if (auto skew = deps_.effective->skew()) s.clock_skew_ms = skew->count();
  s.running_hooks = deps_.handler->RunningHooks();
  s.handler = deps_.handler->Report();
  return s;
}

void Daemon::WriteStatus(DaemonState state) {
  std::string config_path, runtime_dir;
  {
    std::lock_guard lock(mu_);
    config_path = config_.path;
    runtime_dir = config_.runtime_dir;
  }
  const DaemonStatus status = CollectStatus(state, std::move(config_path));
  // The per-poll fields are left out of the change key: without them, an idle daemon's status
  // is the same poll after poll and need not be rewritten each time.
  std::string key = DaemonStatusToJson(status.WithoutPerPollFields(), false);
  const MonoTime mono = deps_.clock->Monotonic();
  if (state == DaemonState::kRunning && key == status_key_ && status_written_ &&
      mono - *status_written_ < kStatusRefresh && !status_write_failing_) {
    return;
  }
  Status st = WriteStatusFile(runtime_dir, DaemonStatusToJson(status, true));
  if (!st.ok() && !status_write_failing_) {
    Log(LogPriority::kWarning, "cannot write the status file (logged once): " + st.message());
  }
  status_write_failing_ = !st.ok();
  if (st.ok()) {
    status_key_ = std::move(key);
    status_written_ = mono;
  }
}

Status Daemon::WriteStatusFile(const std::string& runtime_dir, const std::string& text) {
  if (status_dir_made_ != runtime_dir) {
    LASTCALL_RETURN_IF_ERROR(MakeDirs(runtime_dir));
    status_dir_made_ = runtime_dir;
  }
  // No fsync: the runtime dir is tmpfs (/run), and a status lost in a crash is rewritten by
  // the next poll. The rename still keeps readers from seeing a torn file.
  Status st = WriteFileAtomically(runtime_dir + "/status.json", text, {.sync = false});
  // The directory may have been removed under us (tmpfiles cleanup): create it next time.
  if (!st.ok()) status_dir_made_.clear();
  return st;
}

void Daemon::Reload() {
  deps_.notifier->Notify(ReloadingMessage(deps_.clock->Monotonic()));
  Config old = config();
  Result<Config> next = deps_.reload ? deps_.reload() : Result<Config>(old);
  std::unique_ptr<Provider> new_provider;
  if (next.ok() && ProviderSettingsChanged(old, *next)) {
    if (deps_.make_provider) {
      // Built before anything is applied: if it fails, the reload is refused as a whole.
      Result<std::unique_ptr<Provider>> p = deps_.make_provider(*next);
      if (p.ok()) {
        new_provider = std::move(p).value();
      } else {
        next = Status(p.status().code(), "cannot set up the provider: " + p.status().message());
      }
    } else {
      Log(LogPriority::kWarning,
          "provider and endpoint changes take effect after a restart; the rest is applied now");
    }
  }
  if (!next.ok()) {
    Log(LogPriority::kErr,
        "config reload failed, keeping the running config: " + next.status().message());
  } else {
    if (new_provider) {
      owned_provider_ = std::move(new_provider);
      provider_ = owned_provider_.get();
      need_identity_ = true;
      Log(LogPriority::kInfo, "now watching " + provider_->Describe());
    }
    ApplyConfig(*next, false);
    Log(LogPriority::kInfo, "config reloaded from " + next->path);
  }
  deps_.notifier->Notify("READY=1\n" + StatusMessage(StatusLine()));
}

int Daemon::Run() {
  ApplyConfig(config(), true);
  deps_.notifier->Notify(StatusMessage("starting: watching " + provider_->Describe()));
  Log(LogPriority::kInfo, "lastcalld watching " + provider_->Describe());

  // READY=1 after the first poll was tried (not necessarily succeeded): systemd should not hold
  // up boot because the metadata service is slow, but "ready" must mean "watching".
  // Each wait counts from the start of the previous poll, so the time a poll takes does not
  // stretch the interval, which bounds how late a notice is seen.
  MonoTime poll_started = deps_.clock->Monotonic();
  PollOnce();
  deps_.notifier->Notify("READY=1\n" + StatusMessage(StatusLine()));

  std::optional<Duration> watchdog = deps_.notifier->WatchdogInterval();
  MonoTime next_poll = poll_started + NextPollDelay();
  MonoTime next_watchdog = watchdog ? deps_.clock->Monotonic() + *watchdog : MonoTime::max();
  if (watchdog) deps_.notifier->Notify("WATCHDOG=1");

  for (;;) {
    MonoTime wake = std::min({next_poll, next_watchdog, exporter_->NextWrite()});
    bool stop = false, reload = false;
    {
      std::unique_lock lock(mu_);
      // Until the exact wake time, through the clock (fake time in tests). A wait truncated to
      // whole milliseconds once made the last fraction before each poll a zero wait, and the
      // loop spun on the clock (about 1 ms of CPU a poll).
      deps_.clock->WaitUntil(lock, cv_, wake, [&] { return stop_requested_ || reload_requested_; });
      stop = stop_requested_;
      reload = reload_requested_;
      reload_requested_ = false;
    }
    if (stop) break;
    if (reload) Reload();
    MonoTime now = deps_.clock->Monotonic();
    if (watchdog && now >= next_watchdog) {
      deps_.notifier->Notify("WATCHDOG=1");
      next_watchdog = now + *watchdog;
    }
    if (now >= next_poll) {
      PollOnce();
      next_poll = now + NextPollDelay();
    } else if (reload) {
      SendStatusIfChanged();
    }
    exporter_->MaybeWrite();
  }

  deps_.notifier->Notify("STOPPING=1\n" + StatusMessage("stopping: waiting for running hooks"));
  Log(LogPriority::kInfo, "stopping");
  // Running hooks finish within their own (deadline-capped) timeouts, bounded by stop_timeout:
  // on a reclaimed instance the OS stops services while the drain hook is still at work, and
  // cutting it short after kill_grace would lose the drain.
  deps_.handler->Shutdown(config().hooks.stop_timeout);
  Status st = exporter_->WriteNow();
  if (!st.ok()) Log(LogPriority::kWarning, st.message());
  WriteStatus(DaemonState::kStopped);
  exporter_.reset();
  return 0;
}

// --- signals ------------------------------------------------------------------------------

namespace {
std::atomic<int> g_signal_pipe{-1};

extern "C" void OnSignal(int sig) {
  int saved = errno;
  int fd = g_signal_pipe.load();
  if (fd >= 0) {
    unsigned char b = static_cast<unsigned char>(sig);
    (void)!::write(fd, &b, 1);
  }
  errno = saved;
}
}  // namespace

SignalThread::SignalThread(Daemon* daemon) {
  if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    Log(LogPriority::kErr, std::string("cannot create the signal pipe: ") + ErrnoText(errno));
    return;
  }
  g_signal_pipe = pipe_[1];
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) ::sigaction(sig, &sa, nullptr);
  int rfd = pipe_[0];
  thread_ = std::thread([daemon, rfd] {
    for (;;) {
      pollfd p{rfd, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR) return;
      unsigned char b = 0;
      while (::read(rfd, &b, 1) == 1) {
        if (b == 0) return;  // the destructor's quit byte
        if (b == SIGHUP) {
          Log(LogPriority::kInfo, "SIGHUP: reloading the config");
          daemon->RequestReload();
        } else {
          Log(LogPriority::kInfo, b == SIGINT ? "SIGINT: stopping" : "SIGTERM: stopping");
          daemon->RequestStop();
        }
      }
    }
  });
}

SignalThread::~SignalThread() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) ::sigaction(sig, &sa, nullptr);
  g_signal_pipe = -1;
  if (thread_.joinable()) {
    unsigned char quit = 0;
    (void)!::write(pipe_[1], &quit, 1);
    thread_.join();
  }
  for (int fd : pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

}  // namespace lastcall
