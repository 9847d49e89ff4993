// Metrics: counters, gauges and duration summaries, rendered in Prometheus text format.
//
// Modules record into one Metrics object owned by the daemon; the exporter writes it to the
// node_exporter textfile collector (atomically) and/or serves it on a loopback port.
// Names follow Prometheus conventions: lastcall_polls_total, lastcall_poll_errors_total,
// lastcall_notices_total{kind}, lastcall_hook_runs_total{phase,result},
// lastcall_hook_duration_seconds{phase}, lastcall_seconds_left_at_detection{kind},
// lastcall_last_successful_poll_timestamp_seconds.
//
// Thread-safety: every method is safe to call from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lastcall {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // `help` is recorded the first time a name is seen.
  void Increment(const std::string& name, const MetricLabels& labels = {}, double by = 1.0,
                 const std::string& help = "");
  void Set(const std::string& name, const MetricLabels& labels, double value,
           const std::string& help = "");
  // Records an observation into a summary (_sum and _count series).
  void Observe(const std::string& name, const MetricLabels& labels, double value,
               const std::string& help = "");

  double Value(const std::string& name, const MetricLabels& labels = {}) const;
  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kSummary };
  struct Series {
    double value = 0;  // counter/gauge value, or summary sum
    double count = 0;  // summary count
  };
  struct Family {
    Type type;
    std::string help;
    std::map<MetricLabels, Series> series;
  };
  Family& FamilyFor(const std::string& name, Type type, const std::string& help);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace lastcall
