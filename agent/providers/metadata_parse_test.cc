#include "agent/providers/metadata_parse.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lastcall {
namespace {

WallTime T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

TEST(ParseInstanceActionTest, AcceptsEveryAction) {
  for (const char* action : {"terminate", "stop", "hibernate"}) {
    auto a = ParseInstanceAction(std::string("{\"action\":\"") + action +
                                 "\",\"time\":\"2017-09-18T08:22:00Z\"}");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->action, action);
    EXPECT_EQ(a->time, T("2017-09-18T08:22:00Z"));
  }
}

TEST(ParseInstanceActionTest, ToleratesWhitespaceAndExtraMembers) {
  auto a = ParseInstanceAction(
      " {\n \"time\" : \"2017-09-18T08:22:00Z\", \"action\":\"stop\", \"x\": 1 }\n");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->action, "stop");
}

TEST(ParseInstanceActionTest, RejectsEveryBadShapeWithAClearMessage) {
  struct Case {
    const char* body;
    const char* says;
  } cases[] = {
      {"", "not valid JSON"},
      {"{\"action\":\"terminate\"", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {"\"terminate\"", "expected a JSON object"},
      {"{\"time\":\"2017-09-18T08:22:00Z\"}", "missing \"action\""},
      {"{\"action\":\"terminate\"}", "missing \"time\""},
      {"{\"action\":\"reboot\",\"time\":\"2017-09-18T08:22:00Z\"}", "terminate, stop or hibernate"},
      {"{\"action\":7,\"time\":\"2017-09-18T08:22:00Z\"}", "must be a string"},
      {"{\"action\":\"stop\",\"time\":1505722920}", "must be a string"},
      {"{\"action\":\"stop\",\"time\":\"yesterday\"}", "RFC 3339"},
      {"{\"action\":\"stop\",\"time\":\"2017-13-18T08:22:00Z\"}", "time"},
  };
  for (const auto& c : cases) {
    auto a = ParseInstanceAction(c.body);
    ASSERT_FALSE(a.ok()) << c.body;
    EXPECT_EQ(a.status().code(), StatusCode::kDataLoss) << c.body;
    EXPECT_NE(a.status().message().find(c.says), std::string::npos)
        << c.body << " -> " << a.status().message();
    EXPECT_NE(a.status().message().find("spot/instance-action"), std::string::npos);
  }
}

TEST(ParseInstanceActionTest, SurvivesBinaryGarbageAndDeepNesting) {
  std::string garbage("\x00\xff\xfe{\"", 5);
  EXPECT_FALSE(ParseInstanceAction(garbage).ok());
  EXPECT_FALSE(ParseInstanceAction(std::string(5000, '[') + std::string(5000, ']')).ok());
  EXPECT_FALSE(ParseInstanceAction("{\"action\":\"stop\",\"time\":\"\xff\"}").ok());
}

TEST(ParseTerminationTimeTest, PlainTimeWithSurroundingWhitespace) {
  EXPECT_EQ(ParseTerminationTime("2015-01-05T18:02:00Z").value(), T("2015-01-05T18:02:00Z"));
  EXPECT_EQ(ParseTerminationTime("2015-01-05T18:02:00Z\n").value(), T("2015-01-05T18:02:00Z"));
  EXPECT_EQ(ParseTerminationTime("2015-01-05T18:02:00.000Z").value(), T("2015-01-05T18:02:00Z"));
}

TEST(ParseTerminationTimeTest, RejectsNonTimes) {
  for (const char* body : {"", "\n", "soon", "2015-01-05", "{\"time\":\"2015-01-05T18:02:00Z\"}",
                           "2015-01-05T18:02:00Z trailing"}) {
    auto t = ParseTerminationTime(body);
    ASSERT_FALSE(t.ok()) << body;
    EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(t.status().message().find("termination-time"), std::string::npos);
  }
}

TEST(ParseRebalanceTest, NoticeTime) {
  EXPECT_EQ(ParseRebalance("{\"noticeTime\":\"2020-10-16T19:18:24Z\"}").value(),
            T("2020-10-16T19:18:24Z"));
}

TEST(ParseRebalanceTest, RejectsBadShapes) {
  for (const char* body :
       {"", "2020-10-16T19:18:24Z", "[]", "{}", "{\"noticeTime\":null}",
        "{\"noticeTime\":\"later\"}", "{\"NoticeTime\":\"2020-10-16T19:18:24Z\"}"}) {
    auto t = ParseRebalance(body);
    ASSERT_FALSE(t.ok()) << body;
    EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(t.status().message().find("rebalance"), std::string::npos);
  }
}

constexpr const char* kEvent =
    R"({"NotBefore":"21 Jan 2019 09:00:43 GMT","Code":"system-reboot",)"
    R"("Description":"scheduled reboot","EventId":"instance-event-0d59937288b749b32",)"
    R"("NotAfter":"21 Jan 2019 09:17:23 GMT","NotBeforeDeadline":"31 Jan 2019 09:00:43 GMT",)"
    R"("State":"active"})";

TEST(ParseScheduledEventsTest, EmptyArrayMeansNone) {
  auto e = ParseScheduledEvents("[]");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->events.empty());
  EXPECT_TRUE(e->errors.empty());
}

TEST(ParseScheduledEventsTest, FullEventWithUnpaddedDay) {
  auto e = ParseScheduledEvents(std::string("[") + kEvent + "]");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->events.size(), 1u);
  const ScheduledEvent& ev = e->events[0];
  EXPECT_EQ(ev.code, "system-reboot");
  EXPECT_EQ(ev.event_id, "instance-event-0d59937288b749b32");
  EXPECT_EQ(ev.description, "scheduled reboot");
  EXPECT_EQ(ev.state, NoticeState::kActive);
  EXPECT_EQ(ev.not_before, T("2019-01-21T09:00:43Z"));
  ASSERT_TRUE(ev.not_after.has_value());
  EXPECT_EQ(*ev.not_after, T("2019-01-21T09:17:23Z"));
  EXPECT_NE(ev.raw.find("instance-event-0d59937288b749b32"), std::string::npos);

  auto unpadded = ParseScheduledEvents(
      R"([{"Code":"instance-stop","EventId":"e-1","NotBefore":"2 Feb 2019 01:02:03 GMT","State":"active"}])");
  ASSERT_TRUE(unpadded.ok());
  ASSERT_EQ(unpadded->events.size(), 1u);
  EXPECT_EQ(unpadded->events[0].not_before, T("2019-02-02T01:02:03Z"));
}

TEST(ParseScheduledEventsTest, MissingNotAfterAndStates) {
  auto e = ParseScheduledEvents(
      R"([{"Code":"instance-reboot","EventId":"e-1","NotBefore":"1 Mar 2019 00:00:00 GMT","State":"active"},)"
      R"({"Code":"instance-reboot","EventId":"e-2","NotBefore":"1 Mar 2019 00:00:00 GMT","State":"canceled"},)"
      R"({"Code":"instance-reboot","EventId":"e-3","NotBefore":"1 Mar 2019 00:00:00 GMT","NotAfter":null,"State":"completed"}])");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->events.size(), 3u);
  EXPECT_TRUE(e->errors.empty());
  EXPECT_FALSE(e->events[0].not_after.has_value());
  EXPECT_EQ(e->events[0].state, NoticeState::kActive);
  EXPECT_EQ(e->events[1].state, NoticeState::kCanceled);
  EXPECT_EQ(e->events[2].state, NoticeState::kCompleted);
}

TEST(ParseScheduledEventsTest, BadEntryIsReportedAndOthersKept) {
  auto e = ParseScheduledEvents(
      std::string("[") + kEvent +
      R"(, 7, {"Code":"x","NotBefore":"1 Mar 2019 00:00:00 GMT","State":"active"},)"
      R"({"Code":"x","EventId":"e-4","NotBefore":"2019-03-01T00:00:00Z","State":"active"},)"
      R"({"Code":"x","EventId":"e-5","NotBefore":"1 Mar 2019 00:00:00 GMT","State":"pending"},)"
      R"({"Code":"x","EventId":"e-6","NotBefore":"1 Mar 2019 00:00:00 GMT","NotAfter":"never","State":"active"}])");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->events.size(), 1u);
  ASSERT_EQ(e->errors.size(), 5u);
  EXPECT_NE(e->errors[0].message().find("[1]: expected an object"), std::string::npos);
  EXPECT_NE(e->errors[1].message().find("[2]: missing \"EventId\""), std::string::npos);
  EXPECT_NE(e->errors[2].message().find("[3]: \"NotBefore\""), std::string::npos);
  EXPECT_NE(e->errors[3].message().find("[4]: \"State\" must be"), std::string::npos);
  EXPECT_NE(e->errors[4].message().find("[5]: \"NotAfter\""), std::string::npos);
}

TEST(ParseScheduledEventsTest, NonArrayIsAnError) {
  for (const char* body : {"", "{}", "null", "[", "\"[]\"", "<html>404</html>"}) {
    auto e = ParseScheduledEvents(body);
    ASSERT_FALSE(e.ok()) << body;
    EXPECT_EQ(e.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(e.status().message().find("events/maintenance/scheduled"), std::string::npos);
  }
}

TEST(ParseLifecycleStateTest, KnownStates) {
  for (const char* s : {"InService", "Terminated", "Detached", "Standby", "Warmed:Hibernated",
                        "Warmed:Running", "Warmed:Stopped", "Warmed:Terminated"}) {
    EXPECT_EQ(ParseLifecycleState(std::string(s) + "\n").value(), s);
  }
}

TEST(ParseLifecycleStateTest, UnknownIsAnError) {
  for (const char* s : {"", "terminated", "Terminated Now", "{\"state\":\"Terminated\"}"}) {
    auto r = ParseLifecycleState(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("target-lifecycle-state"), std::string::npos);
  }
}

TEST(ParseMessagesTest, LongGarbageIsCutShort) {
  auto r = ParseInstanceAction(std::string(10000, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 300u);
}

// Regression (issue 11, item 3): a well-formed time outside 1678-2261 is no usable deadline
// (nullopt), never a wrapped one; a malformed time stays an error.
TEST(ParseInstanceActionTest, ATimeOutsideTheRepresentableYearsIsNoUsableDeadline) {
  for (const char* when :
       {"2300-01-01T00:00:00Z", "2262-04-12T00:00:00Z", "1677-01-01T00:00:00Z"}) {
    auto a =
        ParseInstanceAction(std::string("{\"action\":\"terminate\",\"time\":\"") + when + "\"}");
    ASSERT_TRUE(a.ok()) << when << ": " << a.status().ToString();
    EXPECT_FALSE(a->time.has_value()) << when;
  }
  auto t = ParseTerminationTime("2300-01-01T00:00:00Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE(t->has_value());
  EXPECT_FALSE(ParseTerminationTime("2300-13-01T00:00:00Z").ok());
}

}  // namespace
}  // namespace lastcall
