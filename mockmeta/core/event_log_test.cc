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

}  // namespace
}  // namespace lastcall::mock
