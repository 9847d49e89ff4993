#include "agent/base/metrics.h"

#include <gtest/gtest.h>

#include <limits>

namespace lastcall {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Metrics, RendersCountersAndGaugesInPrometheusTextFormat) {
  Metrics m;
  m.DeclareCounter("lastcall_polls_total", "Metadata polls tried.");
  m.Increment("lastcall_polls_total");
  m.Increment("lastcall_polls_total");
  m.Increment("lastcall_hook_runs_total", {{"phase", "drain"}, {"result", "ok"}});
  m.Set("lastcall_last_successful_poll_timestamp_seconds", {}, 1795543201);
  const std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text,
                       "# HELP lastcall_polls_total Metadata polls tried.\n"
                       "# TYPE lastcall_polls_total counter\nlastcall_polls_total 2\n"))
      << text;
  EXPECT_TRUE(Contains(text, "lastcall_hook_runs_total{phase=\"drain\",result=\"ok\"} 1\n"));
  EXPECT_TRUE(Contains(text,
                       "# TYPE lastcall_last_successful_poll_timestamp_seconds gauge\n"
                       "lastcall_last_successful_poll_timestamp_seconds 1795543201\n"));
  EXPECT_EQ(m.Value("lastcall_polls_total"), 2);
}

TEST(Metrics, DeclaredSeriesStartAtZero) {
  Metrics m;
  m.DeclareCounter("x_total", "X.", {{{"phase", "drain"}}, {{"phase", "resume"}}});
  m.DeclareHistogram("d_seconds", "D.", {1, 10}, {{{"phase", "drain"}}});
  const std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text, "x_total{phase=\"drain\"} 0\nx_total{phase=\"resume\"} 0\n")) << text;
  EXPECT_TRUE(Contains(text, "d_seconds_bucket{phase=\"drain\",le=\"+Inf\"} 0\n")) << text;
  EXPECT_TRUE(Contains(text, "d_seconds_count{phase=\"drain\"} 0\n")) << text;
  // Declaring again keeps what was recorded.
  m.Increment("x_total", {{"phase", "drain"}});
  m.DeclareCounter("x_total", "X.", {{{"phase", "drain"}}});
  EXPECT_EQ(m.Value("x_total", {{"phase", "drain"}}), 1);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Metrics m;
  m.DeclareHistogram("lastcall_hook_duration_seconds", "How long hooks ran.", {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 3.0, 42.0}) {
    m.Observe("lastcall_hook_duration_seconds", {{"phase", "drain"}}, v);
  }
  const std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text,
                       "# TYPE lastcall_hook_duration_seconds histogram\n"
                       "lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"0.1\"} 2\n"
                       "lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"1\"} 3\n"
                       "lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"10\"} 4\n"
                       "lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"+Inf\"} 5\n"
                       "lastcall_hook_duration_seconds_sum{phase=\"drain\"} 45.65\n"
                       "lastcall_hook_duration_seconds_count{phase=\"drain\"} 5\n"))
      << text;
  EXPECT_EQ(m.Value("lastcall_hook_duration_seconds", {{"phase", "drain"}}), 5);
}

// "%.17g" printed 0.1 as 0.10000000000000001: values are printed shortest round-trip.
TEST(Metrics, ValuesArePrintedShortestRoundTrip) {
  Metrics m;
  m.Set("g", {{"k", "a"}}, 0.1);
  m.Set("g", {{"k", "b"}}, 0.537);
  m.Set("g", {{"k", "c"}}, 120);
  m.Set("g", {{"k", "d"}}, std::numeric_limits<double>::infinity());
  m.Set("g", {{"k", "e"}}, std::numeric_limits<double>::quiet_NaN());
  m.Set("g", {{"k", "f"}}, -2.5e-7);
  const std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text, "g{k=\"a\"} 0.1\n")) << text;
  EXPECT_TRUE(Contains(text, "g{k=\"b\"} 0.537\n")) << text;
  EXPECT_TRUE(Contains(text, "g{k=\"c\"} 120\n")) << text;
  EXPECT_TRUE(Contains(text, "g{k=\"d\"} +Inf\n")) << text;
  EXPECT_TRUE(Contains(text, "g{k=\"e\"} NaN\n")) << text;
  EXPECT_TRUE(Contains(text, "g{k=\"f\"} -2.5e-07\n")) << text;
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Metrics m;
  m.DeclareCounter("x_total", "Line one\nback\\slash.");
  m.Increment("x_total", {{"k", "a\"b\\c\nd"}});
  const std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text, "# HELP x_total Line one\\nback\\\\slash.\n")) << text;
  EXPECT_TRUE(Contains(text, "x_total{k=\"a\\\"b\\\\c\\nd\"} 1\n")) << text;
}

}  // namespace
}  // namespace lastcall
