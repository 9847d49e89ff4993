#include "agent/base/metric_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lastcall {
namespace {

TEST(MetricCatalog, EveryFamilyHasHelpTypeAndUnitSuffix) {
  Metrics m;
  DeclareLastcallMetrics(m);
  const std::string text = m.RenderPrometheus();
  for (std::string_view name :
       {metric::kPolls, metric::kPollErrors, metric::kLastSuccessfulPoll, metric::kNotices,
        metric::kNoticeLead, metric::kHookRuns, metric::kHookDuration}) {
    const std::string n(name);
    EXPECT_TRUE(m.Has(name)) << n;
    // One HELP style: a capitalised sentence with a period.
    const size_t help = text.find("# HELP " + n + " ");
    ASSERT_NE(help, std::string::npos) << n;
    const std::string line = text.substr(help, text.find('\n', help) - help);
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(line[8 + n.size()]))) << line;
    EXPECT_EQ(line.back(), '.') << line;
    EXPECT_TRUE(n.ends_with("_total") || n.ends_with("_seconds")) << n;
  }
  // The old name put the unit in the middle.
  EXPECT_EQ(text.find("seconds_left_at_detection"), std::string::npos);
}

TEST(MetricCatalog, HookDurationIsAHistogramFromATenthOfASecondToFiveMinutes) {
  Metrics m;
  DeclareLastcallMetrics(m);
  m.Observe(metric::kHookDuration, {{"phase", "drain"}}, 0.05);
  m.Observe(metric::kHookDuration, {{"phase", "drain"}}, 200);
  const std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE lastcall_hook_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"120\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("lastcall_hook_duration_seconds_bucket{phase=\"drain\",le=\"300\"} 2\n"),
            std::string::npos);
  EXPECT_EQ(metric::kHookDurationBuckets.front(), 0.1);
  EXPECT_EQ(metric::kHookDurationBuckets.back(), 300);
}

// Prometheus' own linter on what lastcalld exports: declared families, recorded values and
// hostile label values. promtool comes from Debian's prometheus (scripts/install-deps metrics).
TEST(MetricCatalog, ExportPassesPromtoolCheckMetrics) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null 2>&1"), 0)
      << "promtool is missing: run scripts/install-deps metrics";
  Metrics m;
  DeclareLastcallMetrics(m);
  m.Increment(metric::kPolls, {}, 12);
  m.Set(metric::kLastSuccessfulPoll, {}, 1795543201);
  m.Increment(metric::kNotices, {{"kind", "interruption"}});
  m.Set(metric::kNoticeLead, {{"kind", "interruption"}}, 118.25);
  m.Increment(metric::kHookRuns, {{"phase", "drain"}, {"result", "ok"}});
  m.Observe(metric::kHookDuration, {{"phase", "drain"}}, 0.537);
  m.Increment(metric::kHookRuns, {{"phase", "drain\"\\\n"}, {"result", "ok"}});
  const auto dir =
      std::filesystem::temp_directory_path() / ("lastcall-promtool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string in = (dir / "metrics.prom").string(), out = (dir / "promtool.out").string();
  std::ofstream(in) << m.RenderPrometheus();
  const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::stringstream said;
  said << std::ifstream(out).rdbuf();
  std::filesystem::remove_all(dir);
  EXPECT_EQ(rc, 0) << said.str() << "\n" << m.RenderPrometheus();
  EXPECT_EQ(said.str(), "");
}

}  // namespace
}  // namespace lastcall
