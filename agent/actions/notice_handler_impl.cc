#include "agent/actions/notice_handler_impl.h"

#include <algorithm>
#include <set>

#include "agent/base/log.h"
#include "agent/base/metric_catalog.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

double Seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

LogFields NoticeFields(const std::string& id) { return {{"NOTICE_ID", id}}; }

}  // namespace

Result<std::unique_ptr<NoticeHandlerImpl>> NoticeHandlerImpl::Create(const Config& config,
                                                                     const Clock& clock,
                                                                     Metrics* metrics,
                                                                     Options options) {
  std::unique_ptr<NoticeHandlerImpl> h(
      new NoticeHandlerImpl(config, clock, metrics, std::move(options)));
  LASTCALL_RETURN_IF_ERROR(h->store_.Load());
  // No pruning here: records carry server time, and this run has not seen the server's Date
  // yet (Update prunes once it has).
  Result<std::optional<Identity>> owner = h->store_.LoadOwner();
  if (!owner.ok()) {
    Log(LogPriority::kErr, "instance identity of the state directory is unreadable (" +
                               owner.status().message() + "): taking the first valid read");
  } else if (owner->has_value()) {
    h->tracker_ = IdentityTracker(**owner);
    h->identity_ = **owner;
  }
  h->created_ = clock.Monotonic();
  return h;
}

NoticeHandlerImpl::NoticeHandlerImpl(const Config& config, const Clock& clock, Metrics* metrics,
                                     Options options)
    : clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      store_(config.state_dir, clock),
      runner_(clock),
      config_(std::make_shared<const Config>(config)),
      catalog_(std::make_shared<const HookCatalog>(config.hooks, config.hook_specs,
                                                   options_.allowed_owners)),
      writer_(1),
      pool_(config.hooks.max_concurrent) {}

NoticeHandlerImpl::~NoticeHandlerImpl() {
  Duration grace;
  {
    Locked lock(this);
    grace = config_->hooks.kill_grace;
  }
  Shutdown(grace);
}

WallTime NoticeHandlerImpl::EffectiveNow() const {
  std::lock_guard lock(mu_);
  return EffectiveNowLocked();
}

void NoticeHandlerImpl::SetIdentity(const Identity& identity) {
  Locked lock(this);
  const std::optional<Identity> before = tracker_.believed();
  const IdentityTracker::Outcome outcome = tracker_.Observe(identity);
  LogFields fields = {{"INSTANCE_ID", identity.instance_id}};
  switch (outcome) {
    case IdentityTracker::Outcome::kSame:
      pending_logged_ = false;
      return;
    case IdentityTracker::Outcome::kPending:
      if (!pending_logged_) {
        Log(LogPriority::kWarning,
            "instance identity read differs from " + before->instance_id +
                ": believed only after " + std::to_string(IdentityTracker::kConfirmReads) +
                " reads in a row",
            fields);
        pending_logged_ = true;
      }
      return;
    case IdentityTracker::Outcome::kSwitched: {
      pending_logged_ = false;
      Log(LogPriority::kWarning,
          "another instance: " + identity.instance_id + " (was " + before->instance_id +
              "); its records are kept apart from the old instance's",
          fields);
      Status s = store_.ArchiveAs(before->instance_id);
      if (!s.ok())
        Log(LogPriority::kErr, "cannot archive the old instance's records: " + s.message());
      break;
    }
    case IdentityTracker::Outcome::kFirst:
      break;
  }
  identity_ = identity;
  if (Status s = store_.SaveOwner(identity); !s.ok()) {
    Log(LogPriority::kErr, "cannot save the instance identity: " + s.message(), fields);
  }
}

bool NoticeHandlerImpl::IdentityPending() const {
  std::lock_guard lock(mu_);
  return tracker_.pending();
}

void NoticeHandlerImpl::Persist(const NoticeRecord& record, StateStore::Durability durability) {
  store_.Set(record);
  staged_[std::this_thread::get_id()].emplace_back(record.notice.id, durability);
}

void NoticeHandlerImpl::FlushStaged(Flush flush) {
  std::vector<std::pair<std::string, StateStore::Durability>> staged;
  {
    std::lock_guard lock(mu_);
    auto it = staged_.find(std::this_thread::get_id());
    if (it == staged_.end()) return;
    staged = std::move(it->second);
    staged_.erase(it);
  }
  // One write per id, durable if any of its staged writes was: Write puts the newest version.
  std::map<std::string, StateStore::Durability> writes;
  for (const auto& [id, durability] : staged) {
    auto [it, added] = writes.emplace(id, durability);
    if (durability == StateStore::Durability::kDurable) it->second = durability;
  }
  auto write = [this, writes = std::move(writes)] {
    for (const auto& [id, durability] : writes) {
      if (Status s = store_.Write(id, durability); !s.ok()) {
        Log(LogPriority::kErr, "cannot save notice state: " + s.message(), NoticeFields(id));
      }
    }
  };
  // Behind: the writer thread writes them (in the order staged batches were posted); after
  // Shutdown, here.
  if (flush == Flush::kBehind && writer_.Post(write)) return;
  write();
}

NoticeHandlerImpl::Locked::~Locked() {
  if (lock.owns_lock()) lock.unlock();
  handler->FlushStaged(flush);
}

void NoticeHandlerImpl::RecordNewLocked(const Notice& n, WallTime now) {
  NoticeRecord r;
  r.notice = n;
  r.first_seen = now;
  // Not flushed: the first hook's phase start is (RunNotice), and nothing is lost with this
  // record before it but the sighting, which the next poll repeats. Two fsyncs less per new
  // notice between detection and the first hook.
  Persist(r, StateStore::Durability::kCached);
  const std::string kind(NoticeKindName(n.kind));
  std::string msg = "new " + kind + " notice: " + n.action;
  if (n.deadline) {
    double left = Seconds(std::chrono::duration_cast<Duration>(*n.deadline - now));
    msg += ", deadline " + FormatRfc3339(*n.deadline) + " (" +
           std::to_string(static_cast<long long>(left)) + "s left)";
    if (metrics_) {
      metrics_->Set(metric::kNoticeLead, {{"kind", kind}}, left);
    }
  }
  if (metrics_) {
    metrics_->Increment(metric::kNotices, {{"kind", kind}});
  }
  Log(LogPriority::kNotice, msg, NoticeFields(n.id));
}

void NoticeHandlerImpl::SeenLocked(NoticeRecord r, const Notice& n, WallTime now) {
  bool changed = false;
  absent_mono_.erase(n.id);
  if (r.absent_since || r.absent_polls) {
    r.absent_since.reset();
    r.absent_polls = 0;
    changed = true;
  }
  if (r.withdrawn) {
    const bool ended = r.Started(HookPhase::kResume) ||
                       Planner::Decide(r, now, config_->hooks, clock_checked_).finished;
    if (ended) {
      // The resume undid the work (or the notice was carried out): this is a new episode,
      // and its checkpoint and drain run again.
      NoticeRecord next;
      next.notice = n;
      next.first_seen = now;
      next.episode = r.episode + 1;
      Log(LogPriority::kNotice,
          "notice returned after it ended: episode " + std::to_string(next.episode) +
              " runs its phases again",
          NoticeFields(n.id));
      Persist(next);
      return;
    }
    Log(LogPriority::kNotice, "notice is back after being withdrawn", NoticeFields(n.id));
    r.withdrawn.reset();
    r.superseded_by.clear();
    changed = true;
  }
  if (!SameTerms(r.notice, n)) {
    // Logged once per change: a time that moves on every answer logs every answer, but a
    // raw body or notice time that changes alone logs nothing.
    Log(LogPriority::kNotice,
        "notice changed: state " + std::string(NoticeStateName(n.state)) +
            (n.deadline ? ", deadline " + FormatRfc3339(*n.deadline) : std::string()) +
            (n.action != r.notice.action ? ", action " + n.action : std::string()),
        NoticeFields(n.id));
    r.notice = n;
    changed = true;
  }
  if (changed) Persist(r);
}

void NoticeHandlerImpl::AbsentLocked(NoticeRecord r, WallTime now) {
  r.absent_since = r.absent_since.value_or(now);
  ++r.absent_polls;
  // The window is timed on the monotonic clock (from this run's first miss; a restart starts
  // it again, which only makes withdrawal later).
  const MonoTime mono = clock_.Monotonic();
  const MonoTime since = absent_mono_.try_emplace(r.notice.id, mono).first->second;
  if (!Planner::WithdrawalDue(r, std::chrono::duration_cast<Duration>(mono - since),
                              config_->poll)) {
    Persist(r, StateStore::Durability::kCached);
    return;
  }
  absent_mono_.erase(r.notice.id);
  // It left when it was first missed, not when the evidence was complete.
  r.withdrawn = *r.absent_since;
  Persist(r);
  // Gone at or after its deadline, the notice was carried out (the instance was stopped or
  // released, and its metadata answers 404), not taken back: say so, the Planner resumes
  // nothing for it.
  const std::optional<WallTime> at = Planner::ActionDeadline(r.notice, *r.withdrawn);
  const bool carried_out = at && *r.withdrawn >= *at;
  Log(LogPriority::kNotice,
      carried_out ? "notice gone after its deadline: carried out, not withdrawn"
                  : "notice withdrawn: absent from " + std::to_string(r.absent_polls) +
                        " clean polls since " + FormatRfc3339(*r.absent_since),
      NoticeFields(r.notice.id));
}

void NoticeHandlerImpl::Update(const PollResult& poll, WallTime now) {
  // The poll loop never writes records itself: N new notices cost N in-memory changes here and
  // one batch for the writer thread (issue 11: 400 notices at once).
  Locked lock(this, Flush::kBehind);
  if (stopping_) return;
  skew_ = std::chrono::duration_cast<Duration>(now - clock_.Now());
  if (poll.server_date && !clock_checked_) {
    clock_checked_ = true;
    Log(LogPriority::kInfo, "clock checked against the metadata server's Date");
  }
  EraseFinishedLocked();

  std::set<std::string> seen;
  for (const Notice& n : poll.notices) {
    if (n.id.empty() || !seen.insert(n.id).second) continue;
    std::optional<NoticeRecord> existing = store_.Get(n.id);
    if (!existing) {
      RecordNewLocked(n, now);
    } else {
      SeenLocked(std::move(*existing), n, now);
    }
  }

  // Only a clean poll is evidence that a notice is gone; a failed monitor may just hide it.
  if (poll.ok()) {
    for (NoticeRecord& r : store_.All()) {
      if (seen.count(r.notice.id) || r.withdrawn) continue;
      if (r.notice.state != NoticeState::kActive) continue;  // already over
      AbsentLocked(std::move(r), now);
    }
  }

  // After all withdrawals of this poll are recorded (a deadlined notice withdrawn in the same
  // poll must count as withdrawn): mark withdrawn advisories that a deadlined notice replaced,
  // so they get no resume. Re-checked each poll until resume starts: if the replacing notice
  // is later taken back before its deadline, the advisory is resumed after all.
  {
    const std::vector<NoticeRecord> all = store_.All();
    for (const NoticeRecord& r : all) {
      if (!r.withdrawn || r.notice.deadline || r.Started(HookPhase::kResume)) continue;
      std::string by = Planner::SupersededBy(r, all);
      if (by == r.superseded_by) continue;
      NoticeRecord updated = r;
      updated.superseded_by = by;
      Persist(updated);
      Log(LogPriority::kNotice,
          by.empty() ? "no longer superseded: " + r.superseded_by + " was taken back"
                     : "superseded by " + by + ", not withdrawn: no resume",
          NoticeFields(r.notice.id));
    }
  }

  std::vector<NoticeRecord> all = store_.All();
  Planner::SortByUrgency(all);
  for (const NoticeRecord& r : all) KickLocked(r.notice.id, now);

  // Records are aged against server time only: never on a clock this run has not checked.
  if (clock_checked_ &&
      (!last_prune_ || clock_.Monotonic() - *last_prune_ > std::chrono::hours(1))) {
    last_prune_ = clock_.Monotonic();
    size_t pruned = store_.Prune(now, options_.keep_records);
    if (pruned > 0) {
      Log(LogPriority::kInfo, "pruned " + std::to_string(pruned) + " old notice records");
    }
  }
}

void NoticeHandlerImpl::EraseFinishedLocked() {
  std::erase_if(workers_, [](const auto& w) { return w.second.done(); });
}

bool NoticeHandlerImpl::HoldForClockLocked() const {
  return !clock_checked_ && clock_.Monotonic() - created_ < config_->poll.clock_check_wait;
}

void NoticeHandlerImpl::KickLocked(const std::string& id, WallTime now) {
  if (stopping_ || workers_.count(id)) return;
  // Server time first: a bounded wait at start for the first Date (see Options).
  if (HoldForClockLocked()) return;
  std::optional<NoticeRecord> r = store_.Get(id);
  if (!r) return;
  Plan plan = Planner::Decide(*r, now, config_->hooks, clock_checked_);
  if (plan.idle()) return;
  Worker& w = workers_[id];
  w.snap = Snapshot{config_, catalog_, identity_};
  w.state = Worker::State::kQueued;
  w.wants_since = ++sequence_;
  pool_.Post([this, id] { RunNotice(id); });
}

void NoticeHandlerImpl::RunNotice(const std::string& id) {
  if (std::optional<Snapshot> snap = BeginRun(id)) {
    for (;;) {
      std::optional<Plan> plan = PlanNext(id, *snap);
      if (!plan || plan->phases.empty()) break;
      const HookPhase phase = plan->phases.front();
      // One run of a phase at a time per instance; a run by another notice may be adopted.
      const Claim claim = ClaimOrAdoptPhase(id, phase);
      if (claim == Claim::kParked) return;  // posted again when that phase is released
      if (claim == Claim::kStop) break;
      if (claim == Claim::kAdopted) continue;  // recorded as adopted: plan the next phase
      if (!RunClaimedPhase(id, phase, *plan, *snap)) break;
    }
  }
  // Not Locked: every write of this task is flushed by now.
  std::lock_guard lock(mu_);
  if (auto w = workers_.find(id); w != workers_.end()) w->second.state = Worker::State::kEnded;
  idle_cv_.notify_all();
}

std::optional<NoticeHandlerImpl::Snapshot> NoticeHandlerImpl::BeginRun(const std::string& id) {
  std::lock_guard lock(mu_);
  auto w = workers_.find(id);
  // Not queued any more: Shutdown ended it while it waited for a thread.
  if (stopping_ || w == workers_.end() || w->second.state != Worker::State::kQueued) {
    return std::nullopt;
  }
  w->second.state = Worker::State::kRunning;
  return w->second.snap;
}

std::optional<Plan> NoticeHandlerImpl::PlanNext(const std::string& id, const Snapshot& snap) {
  Plan plan;
  bool start_notify = false;
  {
    Locked lock(this);
    if (stopping_) return std::nullopt;
    std::optional<NoticeRecord> r = store_.Get(id);
    if (!r) return std::nullopt;
    const WallTime now = EffectiveNowLocked();
    plan = Planner::Decide(*r, now, snap.config->hooks, clock_checked_);
    Worker& w = workers_[id];
    start_notify = plan.run_notify && !w.notify_started;
    if (start_notify) {
      w.notify_started = true;
      PhaseRecord& p = r->phases[HookPhase::kNotify];
      p.started = now;
      p.ended.reset();
      ++p.attempts;
    }
    RecordSkipsLocked(*r, plan, now);
    // Flushed with the phase start that follows, which rewrites this same record; when no
    // phase follows, with the notify or skip results. One flush before the first hook.
    const auto durability =
        plan.phases.empty() ? StateStore::Durability::kDurable : StateStore::Durability::kCached;
    if (!plan.skip.empty() || plan.run_notify) Persist(*r, durability);
  }
  if (start_notify) StartNotify(id, snap, plan);
  return plan;
}

void NoticeHandlerImpl::RecordSkipsLocked(NoticeRecord& r, const Plan& plan, WallTime now) {
  for (HookPhase phase : plan.skip) {
    const std::string phase_name(HookPhaseName(phase));
    PhaseRecord& p = r.phases[phase];
    p.started = p.started.value_or(now);
    p.ended = now;
    p.result = PhaseResult::kSkipped;
    Log(LogPriority::kWarning, "deadline passed before phase " + phase_name + " could run: skipped",
        {{"NOTICE_ID", r.notice.id}, {"PHASE", phase_name}});
    if (metrics_) {
      metrics_->Increment(metric::kHookRuns, metric::HookRunLabels(phase, HookResult::kSkipped));
    }
  }
}

bool NoticeHandlerImpl::RunClaimedPhase(const std::string& id, HookPhase phase, const Plan& plan,
                                        const Snapshot& snap) {
  const std::string phase_name(HookPhaseName(phase));
  StopLeftoverHook(id, phase, snap.config->hooks);
  {
    Locked lock(this);
    std::optional<NoticeRecord> r = store_.Get(id);
    if (!r) {
      ReleasePhaseLocked(id, phase);
      return false;
    }
    PhaseRecord& p = r->phases[phase];
    p.started = EffectiveNowLocked();
    p.ended.reset();
    p.result.reset();
    p.adopted_from.clear();
    ++p.attempts;
    Persist(*r);  // before the first hook: a crash from here on reruns the phase
  }
  Log(LogPriority::kInfo, "phase " + phase_name + " starting (" + plan.why + ")",
      {{"NOTICE_ID", id}, {"PHASE", phase_name}});
  const std::optional<PhaseResult> result = RunPhase(id, phase, plan, snap);
  {
    Locked lock(this);
    // nullopt = shutting down: the phase is left unfinished on disk.
    std::optional<NoticeRecord> r = result ? store_.Get(id) : std::nullopt;
    if (r) {
      PhaseRecord& p = r->phases[phase];
      p.ended = EffectiveNowLocked();
      p.result = result;
      Persist(*r);
    }
    ReleasePhaseLocked(id, phase);
    workers_[id].wants_since = ++sequence_;  // the next phase
    if (!r) return false;
  }
  Log(*result == PhaseResult::kOk ? LogPriority::kInfo : LogPriority::kWarning,
      "phase " + phase_name + " ended: " + std::string(PhaseResultName(*result)),
      {{"NOTICE_ID", id}, {"PHASE", phase_name}});
  return true;
}

void NoticeHandlerImpl::StartNotify(const std::string& id, const Snapshot& snap, const Plan& plan) {
  std::optional<NoticeRecord> record = store_.Get(id);
  if (!record) return;
  std::vector<Hook> hooks = snap.catalog->HooksFor(HookPhase::kNotify, record->notice.kind);
  if (hooks.empty()) {
    EndNotify(id, /*all_ok=*/true);
    return;
  }
  auto run = std::make_shared<NotifyRun>();
  run->pending = hooks.size();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    workers_[id].notify_pending += hooks.size();
  }
  // Each hook is a task of its own: they run in parallel as threads free up, and the notice's
  // phases do not wait for them.
  for (const Hook& hook : hooks) {
    Duration own = hook.timeout.value_or(snap.config->hooks.notify_timeout);
    // Best effort: within the deadline if there is time, else still with its own timeout.
    Duration timeout = Planner::HookTimeout(plan, EffectiveNow(), own).value_or(own);
    pool_.Post([this, id, hook, timeout, snap, record = *record, run] {
      RunNotifyHook(id, hook, timeout, snap, record, run);
    });
  }
}

void NoticeHandlerImpl::RunNotifyHook(const std::string& id, const Hook& hook, Duration timeout,
                                      const Snapshot& snap, const NoticeRecord& record,
                                      const std::shared_ptr<NotifyRun>& run) {
  const HookRun result = RunHook(id, hook, timeout, snap, record);
  bool last = false;
  {
    std::lock_guard lock(mu_);
    if (result.result == HookResult::kAborted) run->aborted = true;
    if (!result.ok()) run->all_ok = false;
    last = --run->pending == 0;
  }
  // The last one records the phase (not when shutting down: notify stays unfinished on disk).
  if (last && !run->aborted) EndNotify(id, run->all_ok);
  std::lock_guard lock(mu_);
  if (auto w = workers_.find(id); w != workers_.end()) --w->second.notify_pending;
  idle_cv_.notify_all();
}

void NoticeHandlerImpl::EndNotify(const std::string& id, bool all_ok) {
  // Written (durably) by the writer thread: no hook waits for this record, and the fsync would
  // keep a hook slot's thread from the next hook.
  Locked lock(this, Flush::kBehind);
  std::optional<NoticeRecord> r = store_.Get(id);
  if (!r) return;
  PhaseRecord& p = r->phases[HookPhase::kNotify];
  p.ended = EffectiveNowLocked();
  p.result = all_ok ? PhaseResult::kOk : PhaseResult::kFailed;
  Persist(*r);
}

std::optional<PhaseResult> NoticeHandlerImpl::RunPhase(const std::string& id, HookPhase phase,
                                                       const Plan& plan, const Snapshot& snap) {
  std::optional<NoticeRecord> record = store_.Get(id);
  if (!record) return PhaseResult::kFailed;
  std::vector<Hook> hooks = snap.catalog->HooksFor(phase, record->notice.kind);
  if (hooks.empty()) {
    Log(LogPriority::kInfo, "no hooks for phase " + std::string(HookPhaseName(phase)),
        {{"NOTICE_ID", id}, {"PHASE", std::string(HookPhaseName(phase))}});
  }
  PhaseResultBuilder outcome;
  for (const Hook& hook : hooks) {
    NoticeRecord current;
    WallTime now;
    {
      Locked lock(this);
      if (stopping_) return std::nullopt;
      std::optional<NoticeRecord> r = store_.Get(id);
      if (!r) return PhaseResult::kFailed;
      current = *r;
      now = EffectiveNowLocked();
    }
    if (phase != HookPhase::kResume &&
        (current.withdrawn || current.notice.state != NoticeState::kActive)) {
      Log(LogPriority::kNotice, "notice withdrawn or canceled: not starting further hooks",
          {{"NOTICE_ID", id}, {"PHASE", std::string(HookPhaseName(phase))}, {"HOOK", hook.name}});
      return PhaseResult::kInterrupted;
    }
    Duration own = hook.timeout.value_or(snap.config->hooks.default_timeout);
    std::optional<Duration> timeout = Planner::HookTimeout(plan, now, own);
    if (!timeout) {
      Log(LogPriority::kWarning, "deadline passed: hook not started",
          {{"NOTICE_ID", id}, {"PHASE", std::string(HookPhaseName(phase))}, {"HOOK", hook.name}});
      outcome.Add(HookResult::kSkipped);
      continue;
    }
    HookRun run = RunHook(id, hook, *timeout, snap, current);
    if (run.result == HookResult::kAborted) return std::nullopt;
    outcome.Add(run.result);
  }
  return outcome.result();
}

HookRun NoticeHandlerImpl::RunHook(const std::string& id, const Hook& hook, Duration timeout,
                                   const Snapshot& snap, const NoticeRecord& record) {
  const HookOptions& opts = snap.config->hooks;
  HookRunRequest req;
  req.hook = hook;
  req.notice = record.notice;
  req.identity = snap.identity;
  req.timeout = timeout;
  req.kill_grace = opts.kill_grace;
  req.max_output_bytes = opts.max_output_bytes;
  {
    Locked lock(this);
    req.now = EffectiveNowLocked();
    req.identity = identity_;  // may have been learned after the worker started
    workers_[id].running.push_back(hook.name);
  }
  req.effective_deadline = Planner::EffectiveDeadline(record, opts, req.now);
  const std::string slot = std::string(HookPhaseName(hook.phase)) + "/" + hook.name;
  if (!AcquireHookSlot(slot, opts.max_concurrent)) {
    Locked lock(this);
    auto& running = workers_[id].running;
    if (auto it = std::find(running.begin(), running.end(), hook.name); it != running.end()) {
      running.erase(it);
    }
    HookRun aborted;
    aborted.result = HookResult::kAborted;
    return aborted;
  }
  const bool track = hook.phase != HookPhase::kNotify;  // notify hooks run in parallel
  if (track) {
    req.on_start = [&](pid_t pgid, unsigned long long ticks) {
      Locked lock(this);
      std::optional<NoticeRecord> r = store_.Get(id);
      if (!r) return;
      r->phases[hook.phase].hook_process =
          HookProcessRecord{pgid, ticks, hook.name, EffectiveNowLocked() + timeout};
      // Cached: it must survive the agent's kill -9, not a power cut (which ends the hook too).
      Persist(*r, StateStore::Durability::kCached);
    };
  }
  ++running_hooks_;
  HookRun result = options_.run_hook ? options_.run_hook(req) : runner_.Run(req);
  --running_hooks_;
  {
    Locked lock(this);
    auto& running = workers_[id].running;
    if (auto it = std::find(running.begin(), running.end(), hook.name); it != running.end()) {
      running.erase(it);
    }
    busy_hooks_.erase(slot);
    --hooks_in_slots_;
    GrantHookSlotsLocked();
    if (track && result.result != HookResult::kAborted) {
      std::optional<NoticeRecord> r = store_.Get(id);
      if (r && r->phases[hook.phase].hook_process) {
        r->phases[hook.phase].hook_process.reset();
        Persist(*r, StateStore::Durability::kCached);
      }
    }
  }
  if (metrics_) {
    const std::string phase(HookPhaseName(hook.phase));
    metrics_->Increment(metric::kHookRuns, metric::HookRunLabels(hook.phase, result.result));
    metrics_->Observe(metric::kHookDuration, {{"phase", phase}}, Seconds(result.duration));
  }
  return result;
}

bool NoticeHandlerImpl::AcquireHookSlot(const std::string& slot, size_t max_concurrent) {
  std::unique_lock lock(mu_);
  if (stopping_) return false;
  SlotWaiter me;
  me.slot = slot;
  me.limit = std::max<size_t>(max_concurrent, 1);
  // Each waiter sleeps on its own condition variable and is woken only when it is granted a
  // slot (or at shutdown): with hundreds of notices waiting, a hook that ends must not wake
  // them all to fight over mu_ (issue 11: that delayed the poll loop).
  slot_waiters_.push_back(&me);
  GrantHookSlotsLocked();
  me.cv.wait(lock, [&] { return me.granted || stopping_; });
  if (me.granted && !stopping_) return true;
  if (me.granted) {
    busy_hooks_.erase(slot);
    --hooks_in_slots_;
  } else {
    slot_waiters_.erase(std::find(slot_waiters_.begin(), slot_waiters_.end(), &me));
  }
  return false;
}

void NoticeHandlerImpl::GrantHookSlotsLocked() {
  // In arrival order; a waiter whose hook is busy lets later ones for other hooks pass.
  for (auto it = slot_waiters_.begin(); it != slot_waiters_.end();) {
    SlotWaiter* w = *it;
    if (busy_hooks_.count(w->slot) || hooks_in_slots_ >= w->limit) {
      ++it;
      continue;
    }
    busy_hooks_.insert(w->slot);
    ++hooks_in_slots_;
    w->granted = true;
    w->cv.notify_one();
    it = slot_waiters_.erase(it);
  }
}

NoticeHandlerImpl::Claim NoticeHandlerImpl::ClaimOrAdoptPhase(const std::string& id,
                                                              HookPhase phase) {
  Locked lock(this);  // the adoption below is persisted when it is released
  if (stopping_) return Claim::kStop;
  Worker& w = workers_[id];
  if (auto it = phase_owner_.find(phase); it != phase_owner_.end() && it->second != id) {
    // Parked, not waiting: the thread goes back to the pool until the phase is released
    // (ReleasePhaseLocked queues this notice again).
    parked_[phase].push_back(id);
    w.state = Worker::State::kParked;
    return Claim::kParked;
  }
  // The run this notice waited for: the last run of the phase if it ended after this notice
  // came to need the phase (parked behind it, or queued behind busy threads while it ran).
  std::string waited_for;
  if (auto last = last_run_.find(phase);
      last != last_run_.end() && last->second.second > w.wants_since) {
    waited_for = last->second.first;
  }
  // What another notice of the instance did counts for this one: the run it waited for (any
  // phase), or a drain already done (the instance is drained once).
  std::string from;
  for (const NoticeRecord& other : store_.All()) {
    if (other.notice.id == id || other.withdrawn) continue;
    if (other.notice.state != NoticeState::kActive) continue;
    auto p = other.phases.find(phase);
    if (p == other.phases.end() || !p->second.done() || p->second.result != PhaseResult::kOk)
      continue;
    if (other.notice.id == waited_for || phase == HookPhase::kDrain) {
      from = other.notice.id;
      break;
    }
  }
  if (from.empty()) {
    phase_owner_[phase] = id;
    return Claim::kClaimed;
  }
  std::optional<NoticeRecord> r = store_.Get(id);
  if (!r) return Claim::kStop;
  PhaseRecord& p = r->phases[phase];
  const WallTime now = EffectiveNowLocked();
  p.started = p.started.value_or(now);
  p.ended = now;
  p.result = PhaseResult::kOk;
  p.adopted_from = from;
  Persist(*r);
  w.wants_since = ++sequence_;  // the next phase
  Log(LogPriority::kInfo,
      "phase " + std::string(HookPhaseName(phase)) + " adopted from " + from +
          ": it ran for this instance at the same time",
      {{"NOTICE_ID", id}, {"PHASE", std::string(HookPhaseName(phase))}});
  return Claim::kAdopted;
}

void NoticeHandlerImpl::ReleasePhaseLocked(const std::string& id, HookPhase phase) {
  auto it = phase_owner_.find(phase);
  if (it == phase_owner_.end() || it->second != id) return;
  phase_owner_.erase(it);
  last_run_[phase] = {id, ++sequence_};
  // The notices parked behind this run plan again (and adopt it if it ended ok), in the order
  // they parked.
  auto parked = parked_.find(phase);
  if (parked == parked_.end()) return;
  const std::vector<std::string> ids = std::move(parked->second);
  parked_.erase(parked);
  for (const std::string& p : ids) {
    auto w = workers_.find(p);
    if (w == workers_.end() || w->second.state != Worker::State::kParked) continue;
    w->second.state = Worker::State::kQueued;
    pool_.Post([this, p] { RunNotice(p); });
  }
}

void NoticeHandlerImpl::StopLeftoverHook(const std::string& id, HookPhase phase,
                                         const HookOptions& opts) {
  // A phase is the instance's, not one notice's (shared phases): a killed run may have left a
  // hook of this phase running under ANY notice of the instance (the interruption's checkpoint
  // while this run, restarted, claims the phase for the rebalance first). Every such leftover is
  // waited for or stopped before the phase runs again, so it never runs twice at once.
  struct Leftover {
    std::string notice_id;
    HookProcessRecord process;
  };
  std::vector<Leftover> left;
  std::vector<std::string> unrecorded;  // killed between spawning a hook and recording it
  std::string instance;
  Duration wait{0};
  {
    Locked lock(this);
    instance = identity_.instance_id;
    for (const NoticeRecord& r : store_.All()) {
      auto p = r.phases.find(phase);
      // Only a phase that a previous run started and did not end can have a leftover hook.
      if (p == r.phases.end() || !p->second.started || p->second.ended) continue;
      if (p->second.hook_process) {
        left.push_back({r.notice.id, *p->second.hook_process});
        wait = std::max(wait, std::chrono::duration_cast<Duration>(p->second.hook_process->until -
                                                                   EffectiveNowLocked()));
      } else {
        unrecorded.push_back(r.notice.id);
        wait = opts.default_timeout;
      }
    }
    // Never longer than a hook may run at all: a wrong clock must not make this wait forever.
    wait = std::clamp(wait, Duration::zero(), opts.default_timeout);
  }
  for (const std::string& notice_id : unrecorded) {
    for (pid_t pgid : HookRunner::FindHookGroups(notice_id, phase, instance)) {
      left.push_back({notice_id, {pgid, HookRunner::ProcessStartTicks(pgid), "", {}}});
    }
  }
  const std::string phase_name(HookPhaseName(phase));
  for (const Leftover& l : left) {
    if (runner_.WaitOrStopLeftover(l.process.pgid, l.process.start_ticks, wait, opts.kill_grace)) {
      Log(LogPriority::kWarning,
          "a " + phase_name + " hook of a previous run (process group " +
              std::to_string(l.process.pgid) + ", notice " + l.notice_id +
              ") was still running: waited for it within its own timeout, stopped it if " +
              "needed; the phase runs again",
          {{"NOTICE_ID", id}, {"PHASE", phase_name}, {"HOOK", l.process.hook}});
    }
  }
  Locked lock(this);
  for (const Leftover& l : left) {
    std::optional<NoticeRecord> r = store_.Get(l.notice_id);
    if (!r || !r->phases[phase].hook_process) continue;
    r->phases[phase].hook_process.reset();
    Persist(*r, StateStore::Durability::kCached);
  }
}

void NoticeHandlerImpl::Reconfigure(const Config& config) {
  Locked lock(this);
  if (config.state_dir != config_->state_dir) {
    Log(LogPriority::kWarning, "state_dir changed from " + config_->state_dir + " to " +
                                   config.state_dir + ": takes effect after a restart");
  }
  auto next = std::make_shared<Config>(config);
  next->state_dir = config_->state_dir;
  config_ = std::move(next);
  catalog_ = std::make_shared<const HookCatalog>(config_->hooks, config_->hook_specs,
                                                 options_.allowed_owners);
  pool_.SetMaxThreads(config_->hooks.max_concurrent);
}

HandlerStatus NoticeHandlerImpl::Report() const {
  std::lock_guard lock(mu_);
  const WallTime now = EffectiveNowLocked();
  HandlerStatus out;
  for (const NoticeRecord& r : store_.All()) {
    const Notice& n = r.notice;
    NoticeStatus s{n.id,         n.provider,  n.kind,         n.state,   n.action, n.deadline,
                   r.first_seen, r.withdrawn, r.absent_since, r.episode, {},       {},
                   false,        {},          std::nullopt};
    for (const auto& [phase, p] : r.phases) {
      s.phases[phase] = {p.started, p.ended, p.result, p.attempts};
    }
    if (auto w = workers_.find(n.id); w != workers_.end()) s.running_hooks = w->second.running;
    const Plan plan = Planner::Decide(r, now, config_->hooks, clock_checked_);
    s.finished = plan.finished;
    s.plan = plan.why;
    if (n.deadline)
      s.seconds_left = std::chrono::floor<std::chrono::seconds>(*n.deadline - now).count();
    out.notices.push_back(std::move(s));
  }
  out.running_hooks = running_hooks_.load();
  out.clock_checked = clock_checked_;
  return out;
}

bool NoticeHandlerImpl::WaitIdle(Duration timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] {
    return std::all_of(workers_.begin(), workers_.end(),
                       [](const auto& w) { return w.second.done(); });
  });
}

void NoticeHandlerImpl::Shutdown(Duration grace) {
  {
    Locked lock(this);
    if (shut_down_) return;
    shut_down_ = true;
    stopping_ = true;
    for (SlotWaiter* w : slot_waiters_) w->cv.notify_one();  // they give up
    // Notices waiting for a thread or parked behind another's phase start nothing more.
    for (auto& [id, w] : workers_) {
      if (w.state != Worker::State::kRunning) w.state = Worker::State::kEnded;
    }
    parked_.clear();
  }
  if (!WaitIdle(grace)) {
    Log(LogPriority::kWarning, "hooks still running at shutdown: stopping them");
    runner_.Abort();
  }
  pool_.Shutdown();    // what is still queued sees stopping_ and ends at once
  writer_.Shutdown();  // the records the poll loop staged are on disk
  Locked lock(this);
  workers_.clear();
}

}  // namespace lastcall
