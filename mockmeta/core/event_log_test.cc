#include "mockmeta/core/event_log.h"

#include <gtest/gtest.h>

namespace lastcall::mock {
namespace {

Event Ev(std::string id) {
  Event e;
  e.kind = kind::kPool;
  e.id = std::move(id);
  return e;
}

TEST(EventLogTest, SeqsAreDenseFromOne) {
  EventLog log;
  EXPECT_EQ(log.Append(Ev("a")), 1u);
  EXPECT_EQ(log.Append(Ev("b")), 2u);
  EXPECT_EQ(log.last_seq(), 2u);
  EXPECT_EQ(log.all()[1].seq, 2u);
}

TEST(EventLogTest, SinceReturnsEventsAfterCursorUpToLimit) {
  EventLog log;
  for (int i = 0; i < 10; ++i) log.Append(Ev(std::to_string(i)));
  auto page = log.Since(0, 3);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].seq, 1u);
  EXPECT_EQ(page[2].seq, 3u);
  page = log.Since(page.back().seq, 100);
  ASSERT_EQ(page.size(), 7u);
  EXPECT_EQ(page.front().seq, 4u);
  EXPECT_EQ(page.back().id, "9");
  EXPECT_TRUE(log.Since(10, 5).empty());
  EXPECT_TRUE(log.Since(1000, 5).empty());
  EXPECT_TRUE(log.Since(0, 0).empty());
}

// A 1 ms walk step once grew the log to gigabytes: it now keeps only the newest events, and a
// reader whose cursor fell behind continues at the oldest one held.
TEST(EventLogTest, TheLogIsBoundedAndACursorThatFellBehindSkipsToTheOldestHeld) {
  EventLog log(4);
  for (int i = 1; i <= 10; ++i) EXPECT_EQ(log.Append(Ev(std::to_string(i))), uint64_t(i));
  EXPECT_EQ(log.size(), 4u);
  EXPECT_EQ(log.last_seq(), 10u);
  EXPECT_EQ(log.first_seq(), 7u);
  auto page = log.Since(2, 100);  // cursor 2: events 3..6 are gone
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page.front().seq, 7u);
  EXPECT_EQ(page.front().id, "7");
  EXPECT_EQ(page.back().seq, 10u);
  page = log.Since(8, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].seq, 9u);
  EXPECT_TRUE(log.Since(10, 5).empty());
  EXPECT_EQ(EventLog().capacity(), kDefaultEventCapacity);
}

}  // namespace
}  // namespace lastcall::mock
