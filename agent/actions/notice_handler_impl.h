// NoticeHandlerImpl: the NoticeHandler the daemon uses (see notice_handler.h for the contract).
//
// Per poll it diffs the notices against its records (new, changed, withdrawn - the last only
// from a clean poll), asks the Planner what each notice needs, and starts one worker thread per
// notice that has work. A worker runs the phases in order (checkpoint, then drain), each hook
// of a phase after the other in catalog order, while notify hooks run in parallel on their own
// threads, best effort, once per notice.
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
// disk: under it a record is only changed in memory and staged (Persist), and the thread that
// staged it writes it when it releases the mutex (Locked), before it goes on. So the poll loop
// (Update, StatusJson) never waits behind a worker's fsync, and a phase start is still on disk
// before that phase's first hook runs (issue 11: 400 notices at once stalled polling for
// seconds while their workers fsynced one after the other under this mutex).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
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

  // Blocks until no notice has a worker running, or `timeout` passes (then false).
  bool WaitIdle(Duration timeout);

 private:
  struct Worker {
    std::thread thread;
    bool done = false;
    std::vector<std::string> running;  // hook names, for StatusJson
  };
  struct Snapshot {
    std::shared_ptr<const Config> config;
    std::shared_ptr<const HookCatalog> catalog;
    Identity identity;
  };

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
  // Starts a worker for `id` if it has work now and none is running. mu_ held.
  void KickLocked(const std::string& id, WallTime now);
  void JoinFinishedLocked();
  // mu_ held: updates the record in memory and stages its write for this thread (see above).
  void Persist(const NoticeRecord& record,
               StateStore::Durability durability = StateStore::Durability::kDurable);
  // mu_ not held: writes what this thread staged (one write per id, durable if any staged
  // write was); logs failures.
  void FlushStaged();
  // mu_ for a scope that may Persist: unlocks, then writes what this thread staged.
  struct Locked {
    explicit Locked(NoticeHandlerImpl* h) : handler(h), lock(h->mu_) {}
    ~Locked();
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    NoticeHandlerImpl* handler;
    std::unique_lock<std::mutex> lock;
  };

  void RunNotice(const std::string& id, const Snapshot& snap);
  void RunNotify(const std::string& id, const Snapshot& snap, const Plan& plan);
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
  // Shared phases: waits while another notice runs `phase`; then adopts its run if it ended
  // ok (or a drain done by another live notice), recording it and returning that notice's id;
  // else claims the phase for `id` and returns "". nullopt when shutting down.
  std::optional<std::string> ClaimOrAdoptPhase(const std::string& id, HookPhase phase);
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
  // Shared phases and hook slots (see ClaimOrAdoptPhase, AcquireHookSlot); slots_cv_ wakes
  // their waiters whenever a hook or phase ends, and at shutdown.
  std::condition_variable slots_cv_;
  std::map<HookPhase, std::string> phase_owner_;
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
};

}  // namespace lastcall
