#include "agent/runtime/daemon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "agent/base/log.h"

namespace lastcall {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FakeProvider : public Provider {
 public:
  std::string_view name() const override { return "fake"; }
  Result<Identity> FetchIdentity() override {
    std::lock_guard lock(mu);
    ++identity_calls;
    if (identity_failures > 0) {
      --identity_failures;
      return Unavailable("identity: connection refused");
    }
    return Identity{"i-01234567", "m5.large", "us-east-1a", "us-east-1", "aws"};
  }
  PollResult Poll() override {
    std::lock_guard lock(mu);
    poll_times.push_back(clock->Monotonic());
    PollResult r;
    if (fail_polls) r.errors.push_back(Unavailable("spot/instance-action: HTTP 500"));
    r.notices = notices;
    r.server_date = server_date;
    ++polls;
    return r;
  }
  std::string Describe() const override { return "fake metadata at http://127.0.0.1:1"; }

  int Polls() {
    std::lock_guard lock(mu);
    return polls;
  }
  int IdentityCalls() {
    std::lock_guard lock(mu);
    return identity_calls;
  }
  void SetFailing(bool f) {
    std::lock_guard lock(mu);
    fail_polls = f;
  }

  std::mutex mu;
  int polls = 0;
  int identity_calls = 0;
  int identity_failures = 0;
  bool fail_polls = false;
  std::vector<Notice> notices;
  std::optional<WallTime> server_date;
  std::vector<MonoTime> poll_times;  // on `clock`
  const Clock* clock = &SystemClock::Instance();
};

class FakeHandler : public NoticeHandler {
 public:
  void SetIdentity(const Identity& identity) override {
    std::lock_guard lock(mu);
    identities.push_back(identity);
  }
  void Update(const PollResult& poll, WallTime now) override {
    std::lock_guard lock(mu);
    ++updates;
    last_now = now;
    last_notices = poll.notices.size();
  }
  void Reconfigure(const Config& config) override {
    std::lock_guard lock(mu);
    reconfigured.push_back(config);
  }
  HandlerStatus Report() const override {
    HandlerStatus s;
    s.clock_checked = true;
    return s;
  }
  size_t RunningHooks() const override { return running; }
  void Shutdown(Duration grace) override {
    std::lock_guard lock(mu);
    shutdown_grace = grace;
  }

  mutable std::mutex mu;
  int updates = 0;
  WallTime last_now{};
  size_t last_notices = 0;
  std::vector<Identity> identities;
  std::vector<Config> reconfigured;
  std::optional<Duration> shutdown_grace;
  std::atomic<size_t> running{0};
};

class RecordingNotifier : public Notifier {
 public:
  explicit RecordingNotifier(FakeProvider* p) : provider(p) {}
  void Notify(std::string_view state) override {
    std::lock_guard lock(mu);
    messages.emplace_back(state);
    polls_at.push_back(provider->Polls());
  }
  std::optional<Duration> WatchdogInterval() const override { return watchdog; }

  std::vector<std::string> Messages() {
    std::lock_guard lock(mu);
    return messages;
  }
  int Count(std::string_view prefix) {
    int n = 0;
    for (const auto& m : Messages()) n += m.rfind(prefix, 0) == 0;
    return n;
  }

  FakeProvider* provider;
  std::mutex mu;
  std::vector<std::string> messages;
  std::vector<int> polls_at;
  std::optional<Duration> watchdog;
};

class RecordingSink : public LogSink {
 public:
  void Write(LogPriority, std::string_view message, const LogFields&) override {
    std::lock_guard lock(mu);
    lines.emplace_back(message);
  }
  int Count(std::string_view needle) {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
  std::mutex mu;
  std::vector<std::string> lines;
};

// The test's fake clock, counting how often the daemon reads monotonic time.
class CountingClock final : public Clock {
 public:
  explicit CountingClock(const FakeClock& fake) : fake_(fake) {}
  WallTime Now() const override { return fake_.Now(); }
  MonoTime Monotonic() const override {
    ++reads;
    return fake_.Monotonic();
  }
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override {
    return fake_.WaitUntil(lock, cv, deadline, pred);
  }
  mutable std::atomic<long> reads{0};

 private:
  const FakeClock& fake_;
};

class DaemonTest : public testing::Test {
 protected:
  void SetUp() override {
    auto s = std::make_unique<RecordingSink>();
    log_ = s.get();
    old_sink_ = SetLogSink(std::move(s));
    SetLogLevel(LogPriority::kDebug);
    dir_ = testing::TempDir() + "/daemon-test-" + std::to_string(::getpid()) + "-" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    config_.path = "test.toml";
    config_.runtime_dir = dir_ + "/run";
    config_.state_dir = dir_ + "/state";
    config_.poll.interval = milliseconds(20);
    config_.poll.jitter = 0;
    config_.poll.request_timeout = milliseconds(10);
    config_.poll.max_backoff = seconds(1);
    config_.hooks.kill_grace = milliseconds(300);
    config_.hooks.stop_timeout = milliseconds(700);
    provider_.clock = &fake_;
  }
  void TearDown() override {
    Stop();
    SetLogLevel(LogPriority::kInfo);
    SetLogSink(std::move(old_sink_));
    std::filesystem::remove_all(dir_);
  }

  void Start() {
    DaemonDeps deps;
    deps.clock = &clock_;
    deps.effective = &effective_;
    deps.provider = &provider_;
    deps.handler = &handler_;
    deps.metrics = &metrics_;
    deps.notifier = &notifier_;
    deps.reload = [this]() -> Result<Config> {
      std::lock_guard lock(reload_mu_);
      ++reloads_;
      if (!next_config_.ok()) return next_config_.status();
      return *next_config_;
    };
    deps.random = [] { return 0.5; };
    if (make_provider_) deps.make_provider = make_provider_;
    daemon_ = std::make_unique<Daemon>(config_, deps);
    thread_ = std::thread([this] { exit_code_ = daemon_->Run(); });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    daemon_->RequestStop();
    thread_.join();
  }
  // Runs the daemon on fake time until `pred` holds: each step lets the daemon finish what it
  // does (it then waits on the clock again) and moves the clock to its next wake-up, as long
  // as that is within `limit` of fake time. Events from other threads (a signal, a reload
  // request) are awaited the same way: the daemon waits on the clock again after handling
  // them. No wall-clock sleeps; the only real-time bound is FakeClock::AwaitWaiting's, for a
  // daemon that never waits again (a failing test).
  bool RunUntil(const std::function<bool()>& pred, Duration limit = seconds(60)) {
    const MonoTime end = fake_.Monotonic() + limit;
    for (;;) {
      if (pred()) return true;
      const uint64_t begun = fake_.WaitsBegun();
      const MonoTime next = fake_.NextDeadline();
      if (fake_.WaitingCount() > 0 && next <= end) {
        fake_.Advance(
            std::max(Duration::zero(), std::chrono::ceil<Duration>(next - fake_.Monotonic())));
      }
      if (!fake_.AwaitWaiting(1, begun + 1)) return pred();
    }
  }
  nlohmann::json StatusFile() {
    std::ifstream in(config_.runtime_dir + "/status.json");
    std::stringstream s;
    s << in.rdbuf();
    return nlohmann::json::parse(s.str(), nullptr, false);
  }

  RecordingSink* log_ = nullptr;
  std::unique_ptr<LogSink> old_sink_;
  std::string dir_;
  Config config_;
  FakeClock fake_;
  CountingClock clock_{fake_};
  FakeProvider provider_;
  FakeHandler handler_;
  Metrics metrics_;
  RecordingNotifier notifier_{&provider_};
  EffectiveClock effective_{fake_, seconds(2)};
  std::mutex reload_mu_;
  Result<Config> next_config_{Config{}};
  int reloads_ = 0;
  std::function<Result<std::unique_ptr<Provider>>(const Config&)> make_provider_;
  std::unique_ptr<Daemon> daemon_;
  std::thread thread_;
  int exit_code_ = -1;
};

TEST_F(DaemonTest, ReadyComesAfterTheFirstPollWasTried) {
  provider_.SetFailing(true);  // tried, not necessarily successful
  Start();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 1; }));
  auto msgs = notifier_.Messages();
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].rfind("READY=1", 0) == 0) {
      std::lock_guard lock(notifier_.mu);
      EXPECT_GE(notifier_.polls_at[i], 1);
      EXPECT_NE(msgs[i].find("\nSTATUS=watching fake metadata"), std::string::npos) << msgs[i];
    }
  }
  EXPECT_EQ(msgs.front().rfind("STATUS=starting", 0), 0u);
}

TEST_F(DaemonTest, PollsOnTheIntervalAndFeedsTheHandler) {
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 5; }));
  Stop();
  EXPECT_EQ(exit_code_, 0);
  std::lock_guard lock(handler_.mu);
  EXPECT_EQ(handler_.updates, provider_.Polls());
  EXPECT_EQ(metrics_.Value("lastcall_polls_total"), provider_.Polls());
  EXPECT_EQ(metrics_.Value("lastcall_poll_errors_total"), 0);
  // The fake clock starts at 1.7e9 s; the gauge is the last poll's wall time.
  EXPECT_GE(metrics_.Value("lastcall_last_successful_poll_timestamp_seconds"), 1.7e9);
  EXPECT_LE(metrics_.Value("lastcall_last_successful_poll_timestamp_seconds"),
            std::chrono::duration<double>(fake_.Now().time_since_epoch()).count());
  // Gaps are the interval (20ms of fake time; jitter 0).
  for (size_t i = 1; i < provider_.poll_times.size(); ++i) {
    EXPECT_EQ(provider_.poll_times[i] - provider_.poll_times[i - 1], milliseconds(20));
  }
}

TEST_F(DaemonTest, ErrorsBackOffAndAreLoggedOnceAndRecoveryOnce) {
  provider_.SetFailing(true);
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 5; }));
  {
    std::lock_guard lock(provider_.mu);
    auto& t = provider_.poll_times;
    // 20ms, 40ms, 80ms, 160ms between attempts.
    EXPECT_GE(t[2] - t[1], milliseconds(39));
    EXPECT_GE(t[3] - t[2], milliseconds(79));
    EXPECT_GE(t[4] - t[3], milliseconds(159));
  }
  EXPECT_EQ(log_->Count("metadata poll failed (backing off, logged once): "
                        "spot/instance-action: HTTP 500"),
            1);
  EXPECT_GE(metrics_.Value("lastcall_poll_errors_total"), 5);
  provider_.SetFailing(false);
  ASSERT_TRUE(RunUntil([&] { return log_->Count("metadata polls succeed again") == 1; }));
  int polls = provider_.Polls();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= polls + 3; }));
  EXPECT_EQ(log_->Count("metadata polls succeed again"), 1);
  EXPECT_EQ(log_->Count("metadata poll failed (backing off"), 1);
}

TEST_F(DaemonTest, IdentityIsRetriedUntilReadAndReadAgainAfterFailures) {
  provider_.identity_failures = 2;
  Start();
  ASSERT_TRUE(RunUntil([&] {
    std::lock_guard lock(handler_.mu);
    return handler_.identities.size() == 1;
  }));
  EXPECT_EQ(provider_.IdentityCalls(), 3);
  EXPECT_EQ(log_->Count("cannot read the instance identity"), 1);
  EXPECT_EQ(log_->Count("instance identity read after 2 failures"), 1);
  // Not re-read while polls succeed.
  int polls = provider_.Polls();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= polls + 3; }));
  EXPECT_EQ(provider_.IdentityCalls(), 3);
  // A poll failure makes the next poll read identity again.
  provider_.SetFailing(true);
  ASSERT_TRUE(RunUntil([&] { return provider_.IdentityCalls() >= 4; }));
  provider_.SetFailing(false);
  ASSERT_TRUE(RunUntil([&] {
    std::lock_guard lock(handler_.mu);
    return handler_.identities.size() >= 2;
  }));
  auto status = StatusFile();
  ASSERT_FALSE(status.is_discarded());
  EXPECT_EQ(status["identity"]["instance_id"], "i-01234567");
}

// status.json is rewritten when its content changes, and otherwise only every
// kStatusRefresh for the per-poll fields: rewriting it after every poll cost most of an idle
// daemon's CPU (bench/agent_footprint.sh).
TEST_F(DaemonTest, StatusFileIsRewrittenOnChangeAndOtherwiseAtMostOncePerRefresh) {
  Start();
  ASSERT_TRUE(RunUntil([&] { return StatusFile().is_object(); }));
  // 20 polls in 400ms of fake time, the file read after each: within any 400ms at most one
  // refresh falls, so the file shows at most two different poll counts.
  std::set<uint64_t> seen;
  const int start = provider_.Polls();
  ASSERT_TRUE(RunUntil([&] {
    auto st = StatusFile();
    if (st.is_object()) seen.insert(st["polls"].get<uint64_t>());
    return provider_.Polls() >= start + 20;
  }));
  EXPECT_LE(seen.size(), 2u);
  // Still fresh: the poll count catches up within the refresh period.
  int polls = provider_.Polls();
  ASSERT_TRUE(RunUntil(
      [&] {
        auto st = StatusFile();
        return st.is_object() && st["polls"].get<int>() >= polls;
      },
      Daemon::kStatusRefresh + milliseconds(20)));
  // A change (the poll fails) is written by the poll that saw it, not a refresh later.
  provider_.SetFailing(true);
  const MonoTime failed_at = fake_.Monotonic();
  ASSERT_TRUE(RunUntil([&] {
    auto st = StatusFile();
    return st.is_object() && st["last_poll"]["ok"] == false;
  }));
  EXPECT_LE(fake_.Monotonic() - failed_at, config_.poll.interval);
}

TEST_F(DaemonTest, ReloadKeepsTheOldConfigOnErrorAndAppliesAGoodOne) {
  config_.poll.interval = hours(1);
  config_.poll.max_backoff = hours(1);
  Start();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 1; }));
  {
    std::lock_guard lock(reload_mu_);
    next_config_ = InvalidArgument("test.toml:3:12: poll.interval must be between 100ms and 1h");
  }
  daemon_->RequestReload();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 2; }));
  EXPECT_EQ(log_->Count("config reload failed, keeping the running config: "
                        "test.toml:3:12: poll.interval must be between"),
            1);
  EXPECT_EQ(daemon_->config().poll.interval, hours(1));
  {
    std::lock_guard lock(handler_.mu);
    EXPECT_TRUE(handler_.reconfigured.empty());
  }
  // RELOADING=1 with MONOTONIC_USEC comes before the READY=1 that ends the reload.
  auto msgs = notifier_.Messages();
  ASSERT_GE(msgs.size(), 3u);
  EXPECT_EQ(msgs[msgs.size() - 2].rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u);
  EXPECT_EQ(msgs.back().rfind("READY=1", 0), 0u);

  Config good = config_;
  good.poll.interval = seconds(7);
  good.log_level = "debug";
  {
    std::lock_guard lock(reload_mu_);
    next_config_ = good;
  }
  daemon_->RequestReload();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 3; }));
  EXPECT_EQ(daemon_->config().poll.interval, seconds(7));
  std::lock_guard lock(handler_.mu);
  ASSERT_EQ(handler_.reconfigured.size(), 1u);
  EXPECT_EQ(handler_.reconfigured[0].poll.interval, seconds(7));
  // The same handler, so its state survives; it was never shut down.
  EXPECT_FALSE(handler_.shutdown_grace.has_value());
}

TEST_F(DaemonTest, ReloadWithNewProviderSettingsSwapsTheProvider) {
  // Counted through the second provider's own counters; it is owned by the daemon.
  FakeProvider* second = nullptr;
  int builds = 0;
  make_provider_ = [&](const Config& c) -> Result<std::unique_ptr<Provider>> {
    ++builds;
    if (c.aws.endpoint == "http://127.0.0.1:2") return Unavailable("no such endpoint");
    auto p = std::make_unique<FakeProvider>();
    p->clock = &fake_;
    second = p.get();
    return std::unique_ptr<Provider>(std::move(p));
  };
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 2; }));

  // Same provider settings: no new provider.
  next_config_ = config_;
  daemon_->RequestReload();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 2; }));
  EXPECT_EQ(builds, 0);

  // The provider cannot be built: the whole reload is refused, the old provider keeps polling.
  Config bad = config_;
  bad.aws.endpoint = "http://127.0.0.1:2";
  bad.poll.interval = milliseconds(30);
  {
    std::lock_guard lock(reload_mu_);
    next_config_ = bad;
  }
  daemon_->RequestReload();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 3; }));
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(log_->Count("config reload failed, keeping the running config: cannot set up the "
                        "provider: no such endpoint"),
            1);
  EXPECT_EQ(daemon_->config().poll.interval, milliseconds(20));
  int polls = provider_.Polls();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= polls + 2; }));

  Config good = config_;
  good.aws.endpoint = "http://127.0.0.1:3";
  {
    std::lock_guard lock(reload_mu_);
    next_config_ = good;
  }
  daemon_->RequestReload();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 4; }));
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(RunUntil([&] { return second->Polls() >= 2 && second->IdentityCalls() >= 1; }));
  polls = provider_.Polls();
  int second_polls = second->Polls();
  ASSERT_TRUE(RunUntil([&] { return second->Polls() >= second_polls + 2; }));
  EXPECT_EQ(provider_.Polls(), polls);  // the old one is no longer used
  Stop();
}

TEST_F(DaemonTest, StopsPromptlyEvenWithALongInterval) {
  config_.poll.interval = hours(1);
  config_.poll.max_backoff = hours(1);
  Start();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));
  EXPECT_EQ(notifier_.Messages().back().rfind("STOPPING=1", 0), 0u);
  {
    std::lock_guard lock(handler_.mu);
    // Running hooks get hooks.stop_timeout at stop, not just kill_grace (a reclaimed
    // instance's OS stops services while the drain hook runs).
    EXPECT_EQ(handler_.shutdown_grace, std::optional<Duration>(milliseconds(700)));
  }
  EXPECT_EQ(StatusFile()["state"], "stopped");
}

// Regression: the wait before a poll was truncated to whole milliseconds, so the last
// sub-millisecond became a busy loop on the clock (1 ms of CPU per poll in the footprint bench).
TEST_F(DaemonTest, DoesNotSpinOnTheClockBetweenPolls) {
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 10; }));
  Stop();
  const long per_poll = clock_.reads.load() / provider_.Polls();
  EXPECT_LT(per_poll, 30) << clock_.reads.load() << " clock reads in " << provider_.Polls()
                          << " polls";
}

TEST_F(DaemonTest, WatchdogIsSentAtItsIntervalBetweenPolls) {
  config_.poll.interval = hours(1);
  config_.poll.max_backoff = hours(1);
  notifier_.watchdog = milliseconds(20);
  handler_.running = 2;  // hooks running do not stop it
  Start();
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("WATCHDOG=1") >= 4; }));
  EXPECT_EQ(provider_.Polls(), 1);
  auto msgs = notifier_.Messages();
  bool saw = false;
  for (const auto& m : msgs) saw |= m.find("2 hooks running") != std::string::npos;
  EXPECT_TRUE(saw);
}

TEST_F(DaemonTest, WritesTheStatusFileAfterEachPoll) {
  Notice n;
  n.id = "aws-interruption";
  n.provider = "aws";
  n.action = "terminate";
  n.deadline = WallTime(seconds(1893456000));
  provider_.notices = {n};
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 2; }));
  Stop();
  auto s = StatusFile();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["pid"], ::getpid());
  EXPECT_EQ(s["provider"], "fake");
  EXPECT_EQ(s["watching"], "fake metadata at http://127.0.0.1:1");
  EXPECT_EQ(s["last_poll"]["ok"], true);
  ASSERT_EQ(s["last_poll"]["notices"].size(), 1u);
  EXPECT_EQ(s["last_poll"]["notices"][0]["id"], n.id);
  EXPECT_EQ(s["handler"]["clock_checked"], true);
  EXPECT_GE(s["polls"].get<int>(), 2);
  // No temporary files left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(config_.runtime_dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(DaemonTest, FeedsTheServerTimeWhenTheLocalClockIsOff) {
  provider_.server_date = fake_.Now() + hours(2);
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 1; }));
  Stop();
  std::lock_guard lock(handler_.mu);
  auto diff = handler_.last_now - fake_.Now();
  EXPECT_GT(diff, hours(2) - seconds(10));
  EXPECT_LT(diff, hours(2) + seconds(10));
  EXPECT_TRUE(StatusFile()["clock_skew_ms"].is_number());
}

TEST_F(DaemonTest, MetricsTextfileIsWrittenAndFinalAtExit) {
  config_.metrics.textfile = dir_ + "/lastcall.prom";
  config_.metrics.write_interval = hours(1);
  std::filesystem::create_directories(dir_);
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 3; }));
  Stop();
  std::ifstream in(config_.metrics.textfile);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("lastcall_polls_total " + std::to_string(provider_.Polls()) + "\n"),
            std::string::npos)
      << s.str();
}

// A counter that appears only at its first increment gives rate() nothing to start from, and a
// scraper cannot tell "never happened" from "not exported".
TEST_F(DaemonTest, MetricsStartWithEveryKnownSeriesAtZero) {
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 1; }));
  const std::string text = metrics_.RenderPrometheus();
  Stop();
  for (const char* line :
       {"lastcall_poll_errors_total 0\n", "lastcall_notices_total{kind=\"interruption\"} 0\n",
        "lastcall_notices_total{kind=\"maintenance\"} 0\n",
        "lastcall_hook_runs_total{phase=\"drain\",result=\"timeout\"} 0\n",
        "lastcall_hook_runs_total{phase=\"resume\",result=\"skipped\"} 0\n",
        "lastcall_hook_duration_seconds_bucket{phase=\"checkpoint\",le=\"300\"} 0\n",
        "lastcall_hook_duration_seconds_count{phase=\"notify\"} 0\n",
        "# HELP lastcall_notice_lead_seconds ", "# TYPE lastcall_notice_lead_seconds gauge\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " missing from:\n" << text;
  }
}

TEST_F(DaemonTest, MetricsListenerFailureDoesNotStopTheDaemon) {
  config_.metrics.listen = "10.1.2.3:9877";  // refused: not loopback
  Start();
  ASSERT_TRUE(RunUntil([&] { return provider_.Polls() >= 2; }));
  EXPECT_EQ(log_->Count("running without the metrics listener"), 1);
}

TEST_F(DaemonTest, SignalsReloadAndStop) {
  config_.poll.interval = hours(1);
  config_.poll.max_backoff = hours(1);
  next_config_ = config_;
  Start();
  SignalThread signals(daemon_.get());
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 1; }));
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  ASSERT_TRUE(RunUntil([&] { return notifier_.Count("READY=1") == 2; }));
  {
    std::lock_guard lock(reload_mu_);
    EXPECT_EQ(reloads_, 1);
  }
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  thread_.join();  // the daemon ends on SIGTERM
  EXPECT_EQ(notifier_.Count("STOPPING=1"), 1);
  EXPECT_EQ(exit_code_, 0);
}

}  // namespace
}  // namespace lastcall
