#include "agent/actions/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lastcall {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PlannerTest : public ::testing::Test {
 protected:
  NoticeRecord Interruption(Duration in) {
    NoticeRecord r;
    r.notice.id = "aws-interruption";
    r.notice.provider = "aws";
    r.notice.kind = NoticeKind::kInterruption;
    r.notice.action = "terminate";
    r.notice.deadline = clock_.Now() + in;
    r.first_seen = clock_.Now();
    return r;
  }
  NoticeRecord Maintenance(Duration in) {
    NoticeRecord r = Interruption(in);
    r.notice.kind = NoticeKind::kMaintenance;
    r.notice.action = "system-reboot";
    return r;
  }
  static void MarkDone(NoticeRecord& r, HookPhase phase, WallTime at) {
    r.phases[phase].started = at;
    r.phases[phase].ended = at;
    r.phases[phase].result = PhaseResult::kOk;
  }

  FakeClock clock_;
  HookOptions options_;
};

TEST_F(PlannerTest, FreshInterruptionRunsCheckpointThenDrainAndNotify) {
  NoticeRecord r = Interruption(seconds(120));
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_THAT(p.phases, ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
  EXPECT_TRUE(p.run_notify);
  EXPECT_FALSE(p.start_at);
  EXPECT_FALSE(p.finished);
  EXPECT_EQ(*p.hard_end, *r.notice.deadline);
  EXPECT_EQ(*p.end_by, *r.notice.deadline - options_.safety_margin);
}

TEST_F(PlannerTest, FinishedPhasesAreNotRunAgainButStartedOnesAre) {
  NoticeRecord r = Interruption(seconds(120));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  MarkDone(r, HookPhase::kNotify, clock_.Now());
  r.phases[HookPhase::kDrain].started = clock_.Now();  // crashed mid-drain
  Plan p = Planner::Decide(r, clock_.Now() + seconds(10), options_);
  EXPECT_THAT(p.phases, ElementsAre(HookPhase::kDrain));
  EXPECT_FALSE(p.run_notify);                  // notify runs once per notice
  r.phases[HookPhase::kNotify].ended.reset();  // crashed while notifying
  EXPECT_TRUE(Planner::Decide(r, clock_.Now(), options_).run_notify);
}

TEST_F(PlannerTest, PhaseInterruptedByAWithdrawalThatWasTakenBackRunsAgain) {
  NoticeRecord r = Interruption(seconds(120));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  MarkDone(r, HookPhase::kDrain, clock_.Now());
  r.phases[HookPhase::kDrain].result = PhaseResult::kInterrupted;
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).phases, ElementsAre(HookPhase::kDrain));
}

TEST_F(PlannerTest, AllDoneIsFinished) {
  NoticeRecord r = Interruption(seconds(120));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  MarkDone(r, HookPhase::kDrain, clock_.Now());
  MarkDone(r, HookPhase::kNotify, clock_.Now());
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_TRUE(p.idle());
  EXPECT_TRUE(p.finished);
}

TEST_F(PlannerTest, PolicyPerKindDecidesThePhases) {
  NoticeRecord r = Interruption(seconds(120));
  r.notice.kind = NoticeKind::kRebalance;
  r.notice.deadline.reset();
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).phases,
              ElementsAre(HookPhase::kCheckpoint));
  options_.policies[NoticeKind::kRebalance] = {{HookPhase::kDrain}, {}};
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).phases, ElementsAre(HookPhase::kDrain));
  options_.policies.erase(NoticeKind::kRebalance);
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_THAT(p.phases, IsEmpty());
  EXPECT_TRUE(p.run_notify);
}

TEST_F(PlannerTest, MaintenanceWaitsForLeadTimeButNotifiesAtOnce) {
  NoticeRecord r = Maintenance(std::chrono::hours(2));
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_THAT(p.phases, IsEmpty());
  EXPECT_TRUE(p.run_notify);
  ASSERT_TRUE(p.start_at);
  EXPECT_EQ(*p.start_at, *r.notice.deadline - minutes(10));
  EXPECT_FALSE(p.finished);

  clock_.Advance(minutes(109));
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).phases, IsEmpty());
  clock_.Advance(minutes(1));
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).phases,
              ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
}

// The lead time is kept before the clock is checked too: a maintenance event days ahead does
// not run its phases at once just because no server Date has been seen yet.
TEST_F(PlannerTest, LeadTimeIsKeptBeforeTheClockIsChecked) {
  NoticeRecord r = Maintenance(std::chrono::hours(2));
  Plan p = Planner::Decide(r, clock_.Now(), options_, /*clock_checked=*/false);
  EXPECT_THAT(p.phases, IsEmpty());
  EXPECT_THAT(p.skip, IsEmpty());
  ASSERT_TRUE(p.start_at);
  EXPECT_EQ(*p.start_at, *r.notice.deadline - minutes(10));
  clock_.Advance(minutes(110));
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_, false).phases,
              ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
}

TEST_F(PlannerTest, DeadlineAlreadyPassedSkipsPhasesAndOnlyNotifies) {
  NoticeRecord r = Interruption(seconds(-1));
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_THAT(p.phases, IsEmpty());
  EXPECT_THAT(p.skip, ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
  EXPECT_TRUE(p.run_notify);
  EXPECT_FALSE(p.finished);
  MarkDone(r, HookPhase::kNotify, clock_.Now());
  EXPECT_TRUE(Planner::Decide(r, clock_.Now(), options_).finished);
}

TEST_F(PlannerTest, HookTimeoutIsOwnCappedByTimeLeftMinusMargin) {
  NoticeRecord r = Interruption(seconds(120));
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  // Plenty of time: the hook's own timeout.
  EXPECT_EQ(*Planner::HookTimeout(p, clock_.Now(), seconds(60)), seconds(60));
  // 100s left, margin 5s: 95s.
  EXPECT_EQ(*Planner::HookTimeout(p, clock_.Now() + seconds(20), seconds(300)), seconds(95));
}

TEST_F(PlannerTest, InsideSafetyMarginHooksGetMinimalBudgetThenNothing) {
  NoticeRecord r = Interruption(seconds(120));
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  const WallTime deadline = *r.notice.deadline;
  EXPECT_EQ(*Planner::HookTimeout(p, deadline - seconds(3), seconds(60)), Planner::kMinimalBudget);
  EXPECT_EQ(*Planner::HookTimeout(p, deadline - std::chrono::milliseconds(300), seconds(60)),
            std::chrono::milliseconds(300));
  EXPECT_FALSE(Planner::HookTimeout(p, deadline, seconds(60)));
  EXPECT_FALSE(Planner::HookTimeout(p, deadline + seconds(1), seconds(60)));
}

TEST_F(PlannerTest, AdvisoryWithoutDeadlineUsesAdvisoryBudgetFromFirstSeen) {
  NoticeRecord r = Interruption(seconds(0));
  r.notice.kind = NoticeKind::kRebalance;
  r.notice.deadline.reset();
  clock_.Advance(seconds(30));  // budget counts from first sighting, also after a restart
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_EQ(*p.hard_end, r.first_seen + options_.advisory_budget);
  EXPECT_EQ(*Planner::HookTimeout(p, clock_.Now(), seconds(600)),
            options_.advisory_budget - seconds(30) - options_.safety_margin);
  clock_.Advance(options_.advisory_budget);
  Plan late = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_THAT(late.skip, ElementsAre(HookPhase::kCheckpoint));
}

TEST_F(PlannerTest, WithdrawnAfterWorkStartedGetsResume) {
  NoticeRecord r = Interruption(seconds(120));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  r.phases[HookPhase::kDrain].started = clock_.Now();
  r.withdrawn = clock_.Now() + seconds(5);
  Plan p = Planner::Decide(r, clock_.Now() + seconds(6), options_);
  EXPECT_THAT(p.phases, ElementsAre(HookPhase::kResume));
  EXPECT_FALSE(p.run_notify);
  EXPECT_FALSE(p.hard_end);  // resume has no deadline: hooks get their own timeout
  EXPECT_EQ(*Planner::HookTimeout(p, clock_.Now(), seconds(60)), seconds(60));

  MarkDone(r, HookPhase::kResume, clock_.Now());
  EXPECT_TRUE(Planner::Decide(r, clock_.Now(), options_).finished);
}

TEST_F(PlannerTest, NeverResumeWhatNeverStarted) {
  NoticeRecord r = Maintenance(std::chrono::hours(2));
  r.phases[HookPhase::kNotify].started = clock_.Now();  // notify alone is not work to undo
  r.withdrawn = clock_.Now();
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_TRUE(p.idle());
  EXPECT_TRUE(p.finished);
  r.withdrawn.reset();
  r.notice.state = NoticeState::kCanceled;
  EXPECT_TRUE(Planner::Decide(r, clock_.Now(), options_).finished);
}

TEST_F(PlannerTest, CanceledMaintenanceAfterStartGetsResume) {
  NoticeRecord r = Maintenance(minutes(5));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  r.notice.state = NoticeState::kCanceled;
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).phases, ElementsAre(HookPhase::kResume));
}

TEST_F(PlannerTest, CompletedMaintenanceIsJustFinished) {
  NoticeRecord r = Maintenance(minutes(5));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  MarkDone(r, HookPhase::kDrain, clock_.Now());
  r.notice.state = NoticeState::kCompleted;
  Plan p = Planner::Decide(r, clock_.Now() + minutes(30), options_);
  EXPECT_TRUE(p.idle());
  EXPECT_TRUE(p.finished);
}

TEST_F(PlannerTest, WithdrawnAfterTheDeadlineIsNotResumed) {
  NoticeRecord r = Interruption(seconds(120));
  MarkDone(r, HookPhase::kCheckpoint, clock_.Now());
  r.withdrawn = clock_.Now() + seconds(121);
  Plan p = Planner::Decide(r, clock_.Now() + seconds(122), options_);
  EXPECT_TRUE(p.idle());
  EXPECT_TRUE(p.finished);
}

TEST_F(PlannerTest, WorkStartsWithTheEarliestDeadlineAndAdvisoriesLast) {
  NoticeRecord rebalance = Interruption(seconds(0));
  rebalance.notice.id = "aws-a-rebalance";  // sorts first by id: the order must not be by id
  rebalance.notice.kind = NoticeKind::kRebalance;
  rebalance.notice.deadline.reset();
  NoticeRecord late = Maintenance(seconds(3600));
  NoticeRecord soon = Interruption(seconds(120));
  NoticeRecord lifecycle = rebalance;
  lifecycle.notice.id = "aws-b-lifecycle";
  lifecycle.notice.kind = NoticeKind::kLifecycle;
  std::vector<NoticeRecord> records = {rebalance, late, lifecycle, soon};
  Planner::SortByUrgency(records);
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (const NoticeRecord& r : records) ids.push_back(r.notice.id);
  EXPECT_THAT(ids,
              ElementsAre(soon.notice.id, late.notice.id, "aws-a-rebalance", "aws-b-lifecycle"));
}

TEST_F(PlannerTest, AdvisoryVanishingAfterADeadlinedNoticeWasSupersededNotWithdrawn) {
  NoticeRecord rebalance = Interruption(seconds(0));
  rebalance.notice.id = "aws-rebalance-i-1-x";
  rebalance.notice.kind = NoticeKind::kRebalance;
  rebalance.notice.deadline.reset();
  MarkDone(rebalance, HookPhase::kCheckpoint, clock_.Now());
  clock_.Advance(seconds(30));
  NoticeRecord interruption = Interruption(seconds(120));  // seen after the advisory
  // Still on record: the advisory was not withdrawn yet, so nothing supersedes it.
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, interruption}), "");

  // The instance is terminated at the deadline; both vanish from the next clean poll.
  clock_.Advance(seconds(121));
  rebalance.withdrawn = clock_.Now();
  interruption.withdrawn = clock_.Now();
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, interruption}), interruption.notice.id);
  // Without the mark the advisory would be resumed; with it, it is finished.
  EXPECT_THAT(Planner::Decide(rebalance, clock_.Now(), options_).phases,
              ElementsAre(HookPhase::kResume));
  rebalance.superseded_by = interruption.notice.id;
  Plan p = Planner::Decide(rebalance, clock_.Now(), options_);
  EXPECT_TRUE(p.idle());
  EXPECT_TRUE(p.finished);
  EXPECT_EQ(p.why, "superseded by aws-interruption: no resume");
  // The interruption itself ended after its deadline: no resume either (kept rule).
  MarkDone(interruption, HookPhase::kCheckpoint, clock_.Now());
  EXPECT_TRUE(Planner::Decide(interruption, clock_.Now(), options_).finished);
}

TEST_F(PlannerTest, AdvisoryIsNotSupersededByANoticeTakenBackOrOlderOrWithoutDeadline) {
  NoticeRecord older = Interruption(seconds(600));  // seen before the advisory
  older.notice.id = "aws-interruption-i-1-older";
  clock_.Advance(seconds(10));
  NoticeRecord rebalance = Interruption(seconds(0));
  rebalance.notice.id = "aws-rebalance-i-1-x";
  rebalance.notice.kind = NoticeKind::kRebalance;
  rebalance.notice.deadline.reset();
  clock_.Advance(seconds(10));
  NoticeRecord interruption = Interruption(seconds(120));
  clock_.Advance(seconds(20));
  rebalance.withdrawn = clock_.Now();
  EXPECT_EQ(Planner::SupersededBy(rebalance, {older, rebalance}), "");

  // Withdrawn before its deadline: the instance stays, the advisory really ended.
  interruption.withdrawn = clock_.Now();
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, interruption}), "");
  interruption.withdrawn.reset();
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, interruption}), interruption.notice.id);
  interruption.notice.state = NoticeState::kCanceled;  // a canceled maintenance event
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, interruption}), "");
  interruption.notice.state = NoticeState::kActive;

  NoticeRecord lifecycle = rebalance;  // another advisory: no deadline, supersedes nothing
  lifecycle.notice.id = "aws-lifecycle-i-1-x";
  lifecycle.notice.kind = NoticeKind::kLifecycle;
  lifecycle.first_seen = clock_.Now();
  lifecycle.withdrawn.reset();
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, lifecycle}), "");
  NoticeRecord other_cloud = interruption;
  other_cloud.notice.provider = "alibaba";
  EXPECT_EQ(Planner::SupersededBy(rebalance, {rebalance, other_cloud}), "");
  // A notice with a deadline is never superseded by this rule.
  interruption.withdrawn = clock_.Now();
  EXPECT_EQ(Planner::SupersededBy(interruption, {rebalance, interruption}), "");
}

// Regression (issue 10, cause 3): a phase was recorded as "deadline passed ... skipped" before
// the first poll had brought the server's Date, on a local clock hours ahead of the server.
TEST_F(PlannerTest, NothingIsSkippedBeforeTheClockIsCheckedAgainstTheServer) {
  NoticeRecord r = Interruption(seconds(120));
  const WallTime local_ahead = clock_.Now() + std::chrono::hours(3);
  Plan p = Planner::Decide(r, local_ahead, options_, /*clock_checked=*/false);
  EXPECT_THAT(p.skip, IsEmpty());
  EXPECT_THAT(p.phases, ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
  EXPECT_FALSE(p.hard_end);  // hooks run on their own timeouts, not cut by a doubtful deadline
  EXPECT_EQ(Planner::HookTimeout(p, local_ahead, seconds(60)), seconds(60));
  // Once checked, the same time is really past: skipped.
  Plan checked = Planner::Decide(r, local_ahead, options_, true);
  EXPECT_THAT(checked.skip, ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
}

// Regression (issue 10): an active scheduled event inside its window (NotBefore passed,
// NotAfter not) was taken as missed and its phases skipped.
TEST_F(PlannerTest, MaintenanceInsideItsWindowIsImminentAndWorksTowardNotAfter) {
  NoticeRecord r = Maintenance(-seconds(30));  // NotBefore 30 s ago
  r.notice.window_end = clock_.Now() + minutes(10);
  Plan p = Planner::Decide(r, clock_.Now(), options_);
  EXPECT_THAT(p.skip, IsEmpty());
  EXPECT_THAT(p.phases, ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
  EXPECT_EQ(*p.hard_end, *r.notice.window_end);
  EXPECT_EQ(Planner::ActionDeadline(r.notice, clock_.Now()), r.notice.window_end);
  // Before the window opens, NotBefore is the deadline.
  EXPECT_EQ(Planner::ActionDeadline(r.notice, clock_.Now() - minutes(1)), r.notice.deadline);
  // After NotAfter, or without one, the window is over: skipped.
  EXPECT_THAT(Planner::Decide(r, clock_.Now() + minutes(11), options_).skip,
              ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
  r.notice.window_end.reset();
  EXPECT_THAT(Planner::Decide(r, clock_.Now(), options_).skip,
              ElementsAre(HookPhase::kCheckpoint, HookPhase::kDrain));
}

TEST_F(PlannerTest, WithdrawalIsDueOnlyAfterEnoughPollsAndEnoughTime) {
  PollOptions poll;  // defaults: 3 polls and 6 s
  NoticeRecord r = Interruption(seconds(120));
  EXPECT_FALSE(Planner::WithdrawalDue(r, seconds(60), poll));
  r.absent_since = clock_.Now();
  r.absent_polls = 3;
  EXPECT_FALSE(Planner::WithdrawalDue(r, seconds(5), poll));  // polls, not time
  r.absent_polls = 2;
  EXPECT_FALSE(Planner::WithdrawalDue(r, minutes(5), poll));  // time, not polls
  r.absent_polls = 3;
  EXPECT_TRUE(Planner::WithdrawalDue(r, seconds(6), poll));
}

}  // namespace
}  // namespace lastcall
