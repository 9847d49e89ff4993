#include "agent/metrics.h"

#include <gtest/gtest.h>

namespace lastcall {
namespace {

TEST(Metrics, RendersPrometheusTextFormat) {
  Metrics m;
  m.Increment("lastcall_polls_total", {}, 1, "Metadata polls.");
  m.Increment("lastcall_polls_total");
  m.Increment("lastcall_hook_runs_total", {{"phase", "drain"}, {"result", "ok"}});
  m.Observe("lastcall_hook_duration_seconds", {{"phase", "drain"}}, 1.5);
  m.Observe("lastcall_hook_duration_seconds", {{"phase", "drain"}}, 0.5);
  m.Set("lastcall_last_successful_poll_timestamp_seconds", {}, 1700000000);
  std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("# HELP lastcall_polls_total Metadata polls.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE lastcall_polls_total counter\nlastcall_polls_total 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("lastcall_hook_runs_total{phase=\"drain\",result=\"ok\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("lastcall_hook_duration_seconds_sum{phase=\"drain\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("lastcall_hook_duration_seconds_count{phase=\"drain\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("lastcall_last_successful_poll_timestamp_seconds 1700000000\n"),
            std::string::npos);
  EXPECT_EQ(m.Value("lastcall_polls_total"), 2);
}

}  // namespace
}  // namespace lastcall
