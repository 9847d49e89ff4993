// Metrics: counters, gauges and histograms, rendered in Prometheus text format 0.0.4.
//
// Modules record into one Metrics object owned by the daemon; the exporter writes it to the
// node_exporter textfile collector (atomically) and/or serves it on a loopback port. What
// lastcall records, with its help text and known labels, is declared in one place
// (agent/base/metric_catalog.h), so that every family and every known series is there, at 0, from
// the start: a scraper sees a counter's first increment, and a rate() has a starting point.
// Recording into an undeclared family creates it (without HELP), so a missing declaration
// loses nothing.
//
// Values are printed shortest-round-trip (std::to_chars): 0.1 is "0.1", not
// "0.10000000000000001".
//
// Thread-safety: every method is safe to call from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a family and its known series, each at 0. Declaring again adds series and keeps
  // recorded values. Histogram `bounds` are the upper bounds of the finite buckets, ascending
  // (+Inf is implicit).
  void DeclareCounter(std::string_view name, std::string_view help,
                      const std::vector<MetricLabels>& series = {{}});
  void DeclareGauge(std::string_view name, std::string_view help);
  void DeclareHistogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                        const std::vector<MetricLabels>& series = {});

  void Increment(std::string_view name, const MetricLabels& labels = {}, double by = 1.0);
  void Set(std::string_view name, const MetricLabels& labels, double value);
  // Records an observation into a histogram (its buckets, _sum and _count).
  void Observe(std::string_view name, const MetricLabels& labels, double value);

  // A counter's or gauge's value; a histogram's count. 0 when absent.
  double Value(std::string_view name, const MetricLabels& labels = {}) const;
  // Whether the family is declared or was recorded into.
  bool Has(std::string_view name) const;
  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;             // counter/gauge value, or histogram sum
    double count = 0;             // histogram count
    std::vector<double> buckets;  // histogram: observations <= bounds[i] (not cumulative)
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> bounds;  // histogram
    std::map<MetricLabels, Series> series;
  };
  Family& FamilyFor(std::string_view name, Type type);
  Series& SeriesFor(Family& family, const MetricLabels& labels);
  static void RenderFamily(const std::string& name, const Family& family, std::string& out);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace lastcall
