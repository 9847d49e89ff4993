// NoticeHandlerImpl: the NoticeHandler the daemon uses (see notice_handler.h for the contract).
//
// Per poll it diffs the notices against its records (new, changed, withdrawn - the last only
// from a clean poll), asks the Planner what each notice needs, and queues a task for each
// notice that has work on a WorkerPool of hooks.max_concurrent threads (one slot per hook
// process, so threads are bounded however many notices arrive). A notice's task runs its
// phases in order (checkpoint, then drain), each hook of a phase after the other in catalog
// order; its notify hooks are tasks of their own, run in parallel as threads free up, best
// effort, once per notice.
//
// Nothing in a task waits for a queued task (that could take every thread): a notice that needs
// a phase another notice of the instance is running parks (its thread goes back to the pool)
// and is queued again when that run ends; a notice's task does not wait for its notify hooks.
// Tasks wait only for running work: a hook slot (a hook that is running ends), a leftover
// process of a previous run (bounded by its timeout).
//
// Exactly once across restarts: a phase is recorded as started in the StateStore before its
// first hook runs and as ended (with its result) after its last, so after kill -9 a restarted
// agent skips ended phases and runs a started-but-unfinished phase again, if time is left.
// Hooks must therefore be idempotent: a crash can make one run twice, never zero times when
// time allows.
//
// Withdrawn or canceled mid-phase: the hook that is running is allowed to finish (it already
// has a timeout within the deadline, and stopping a drain half-way leaves a state no resume
// hook can rely on), the phase's remaining hooks and phases are not started (the phase is
// recorded as PhaseResult::kInterrupted), then the `resume` phase runs.
//
// Lead time (maintenance): nothing waits on a timer; each Update re-plans, so phases start at
// the first poll after `deadline - lead`.
//
// For `lastcalld simulate`: Create() with a Config whose state_dir is a throwaway directory,
// Update() with a made-up notice, then WaitIdle().
//
// Thread-safety: every method may be called from any thread; one mutex guards the records
// and the worker table, and is never held while a hook runs nor while a record is written to
// disk: under it a record is only changed in memory and staged (Persist). A task writes what it
// staged when it releases the mutex (Locked), before it goes on, so a phase start is on disk
// before that phase's first hook runs. The poll loop (Update) writes nothing itself: its
// staged records go to a writer thread in one batch per poll (a record lost to a crash before
// that write is seen again at the next poll, as before). So a poll that sees N new notices does
// N in-memory changes and N queue pushes, never waits behind an fsync, and starts no thread
// beyond the pool's (issue 11: 400 notices at once stalled polling for seconds while their
// workers fsynced under this mutex, and the poll that saw them started 400 threads).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/actions/hook_catalog.h"
#include "agent/actions/hook_runner.h"
#include "agent/actions/notice_handler.h"
#include "agent/actions/planner.h"
#include "agent/actions/state_store.h"
#include "agent/actions/worker_pool.h"
#include "agent/base/identity.h"
#include "agent/base/metrics.h"

namespace lastcall {

class NoticeHandlerImpl final : public NoticeHandler {
 public:
  struct Options {
    // Who may own hooks; empty = root plus config.hooks.allowed_owner. Tests add their uid.
    std::vector<uid_t> allowed_owners;
    // Records are removed this long after their deadline.
    Duration keep_records = std::chrono::hours(24 * 7);
    // Runs one hook; empty = the HookRunner (a real process). Tests put a fake here
    // (agent/actions_test_support.h). Called from the pool's threads.
    std::function<HookRun(const HookRunRequest&)> run_hook;
  };

  // Loads the state under config.state_dir. Fails only if that directory is unusable.
  static Result<std::unique_ptr<NoticeHandlerImpl>> Create(const Config& config, const Clock& clock,
                                                           Metrics* metrics, Options options);
  static Result<std::unique_ptr<NoticeHandlerImpl>> Create(const Config& config, const Clock& clock,
                                                           Metrics* metrics) {
    return Create(config, clock, metrics, Options{});
  }
  ~NoticeHandlerImpl() override;

  void SetIdentity(const Identity& identity) override;
  bool IdentityPending() const override;
  void Update(const PollResult& poll, WallTime now) override;
  void Reconfigure(const Config& config) override;
  HandlerStatus Report() const override;
  size_t RunningHooks() const override { return running_hooks_.load(); }
  void Shutdown(Duration grace) override;

  // Blocks until no notice has work queued, parked or running, or `timeout` passes (then
  // false).
  bool WaitIdle(Duration timeout);

 private:
  struct Snapshot {
    std::shared_ptr<const Config> config;
    std::shared_ptr<const HookCatalog> catalog;
    Identity identity;
  };
  // A notice with work: its task's state and its notify hooks still to end.
  struct Worker {
    enum class State { kQueued, kRunning, kParked, kEnded };
    State state = State::kQueued;
    // sequence_ when it came to need its next phase: queued, or its last phase ended.
    uint64_t wants_since = 0;
    Snapshot snap;  // the settings its run started with
    bool notify_started = false;
    size_t notify_pending = 0;
    std::vector<std::string> running;  // hook names, for Report
    bool done() const { return state == State::kEnded && notify_pending == 0; }
  };
  // One notice's notify hooks: the last to end records the phase. Guarded by mu_.
  struct NotifyRun {
    size_t pending = 0;
    bool aborted = false;
    bool all_ok = true;
  };
  enum class Claim { kClaimed, kAdopted, kParked, kStop };
  // Who writes what a scope staged: the thread itself, or the writer thread (the poll loop).
  enum class Flush { kNow, kBehind };

  NoticeHandlerImpl(const Config& config, const Clock& clock, Metrics* metrics, Options options);

  WallTime EffectiveNowLocked() const { return clock_.Now() + skew_; }
  WallTime EffectiveNow() const;
  // The parts of Update, mu_ held: a notice first seen; one seen again (absence reset, back
  // after withdrawal, new episode, changed terms); one absent from a clean poll.
  void RecordNewLocked(const Notice& n, WallTime now);
  void SeenLocked(NoticeRecord r, const Notice& n, WallTime now);
  void AbsentLocked(NoticeRecord r, WallTime now);
  // Server time first: no hook starts until a Date was seen or poll.clock_check_wait passed.
  bool HoldForClockLocked() const;
  // Queues a task for `id` if it has work now and none is queued or running. mu_ held.
  void KickLocked(const std::string& id, WallTime now);
  void EraseFinishedLocked();
  // mu_ held: updates the record in memory and stages its write for this thread (see above).
  void Persist(const NoticeRecord& record,
               StateStore::Durability durability = StateStore::Durability::kDurable);
  // mu_ not held: writes what this thread staged (one write per id, durable if any staged
  // write was), or hands it to the writer thread; logs failures.
  void FlushStaged(Flush flush);
  // mu_ for a scope that may Persist: unlocks, then writes what this thread staged.
  struct Locked {
    explicit Locked(NoticeHandlerImpl* h, Flush f = Flush::kNow)
        : handler(h), flush(f), lock(h->mu_) {}
    ~Locked();
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    NoticeHandlerImpl* handler;
    Flush flush;
    std::unique_lock<std::mutex> lock;
  };

  // A notice's task: plans, claims and runs phases until none is due, it parks, or shutdown.
  void RunNotice(const std::string& id);
  // The task's settings, and it is marked running; nullopt when it must not run (shutdown).
  std::optional<Snapshot> BeginRun(const std::string& id);
  // Plans the notice's next step, records skipped phases and the notify start, and queues the
  // notify hooks; nullopt when the notice is gone or shutting down.
  std::optional<Plan> PlanNext(const std::string& id, const Snapshot& snap);
  void RecordSkipsLocked(NoticeRecord& r, const Plan& plan, WallTime now);
  // Runs a phase this notice claimed and records it; false when the task must stop.
  bool RunClaimedPhase(const std::string& id, HookPhase phase, const Plan& plan,
                       const Snapshot& snap);
  // Queues one task per notify hook of the notice (EndNotify at once if there is none).
  void StartNotify(const std::string& id, const Snapshot& snap, const Plan& plan);
  void RunNotifyHook(const std::string& id, const Hook& hook, Duration timeout,
                     const Snapshot& snap, const NoticeRecord& record,
                     const std::shared_ptr<NotifyRun>& run);
  void EndNotify(const std::string& id, bool all_ok);
  // Runs the hooks of one phase; returns the result to record, or nullopt if Shutdown cut it off
  // (the phase stays unfinished).
  std::optional<PhaseResult> RunPhase(const std::string& id, HookPhase phase, const Plan& plan,
                                      const Snapshot& snap);
  HookRun RunHook(const std::string& id, const Hook& hook, Duration timeout, const Snapshot& snap,
                  const NoticeRecord& record);
  // Waits until the hook `slot` ("<phase>/<name>") is free and fewer than `max_concurrent`
  // hooks run; false when shutting down.
  bool AcquireHookSlot(const std::string& slot, size_t max_concurrent);
  // Hands free slots to waiters in arrival order and wakes just those. mu_ held.
  void GrantHookSlotsLocked();
  // Shared phases: while another notice runs `phase`, parks `id` (kParked: its task ends and
  // is queued again when that run is released). Else adopts the run it waited for if that
  // ended ok (or a drain done by another live notice), recording it (kAdopted), or claims the
  // phase for `id` (kClaimed). kStop when shutting down or the record is gone. "Waited for"
  // is the last run of the phase if it ended after `id` came to need the phase (queued, or
  // its previous phase ended): a notice queued behind busy threads while another ran the
  // phase counts as waiting, as a parked one does (with a thread per notice every notice
  // reached the phase at once and waited).
  Claim ClaimOrAdoptPhase(const std::string& id, HookPhase phase);
  // Frees `phase` if `id` holds it and queues the notices parked behind it. mu_ held.
  void ReleasePhaseLocked(const std::string& id, HookPhase phase);
  // Hooks of a previous run: waits for or stops every leftover process group of `phase`, under
  // any notice of the instance (a phase is shared between them), before `id` runs it.
  void StopLeftoverHook(const std::string& id, HookPhase phase, const HookOptions& opts);

  const Clock& clock_;
  Metrics* metrics_;
  Options options_;
  StateStore store_;
  HookRunner runner_;
  std::atomic<size_t> running_hooks_{0};

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<const HookCatalog> catalog_;
  Identity identity_;
  Duration skew_{0};  // effective now - clock_.Now(), from the last Update
  std::map<std::string, Worker> workers_;
  // Writes staged under mu_ per thread, written by that thread once it released mu_.
  std::map<std::thread::id, std::vector<std::pair<std::string, StateStore::Durability>>> staged_;
  // Shared phases (see ClaimOrAdoptPhase): who runs each, who is parked behind it, and whose
  // run ended last (with sequence_ at its end).
  std::map<HookPhase, std::string> phase_owner_;
  std::map<HookPhase, std::vector<std::string>> parked_;
  std::map<HookPhase, std::pair<std::string, uint64_t>> last_run_;
  uint64_t sequence_ = 0;  // orders queued work and phase ends
  std::set<std::string> busy_hooks_;
  // Threads waiting in AcquireHookSlot, oldest first; each on its own condition variable.
  struct SlotWaiter {
    std::string slot;
    size_t limit = 1;
    std::condition_variable cv;
    bool granted = false;
  };
  std::list<SlotWaiter*> slot_waiters_;
  size_t hooks_in_slots_ = 0;
  bool stopping_ = false;
  bool shut_down_ = false;
  std::optional<MonoTime> last_prune_;
  // When this run first missed each absent notice (monotonic: the withdrawal window).
  std::map<std::string, MonoTime> absent_mono_;
  IdentityTracker tracker_;
  bool pending_logged_ = false;
  // Whether this run has seen a metadata answer's Date (server time first).
  bool clock_checked_ = false;
  MonoTime created_{};
  // Last: destroyed first, so no task outlives what it uses (Shutdown has joined them anyway).
  WorkerPool writer_;  // one thread: the records the poll loop staged
  WorkerPool pool_;    // notice tasks and notify hooks, hooks.max_concurrent threads
};

}  // namespace lastcall
