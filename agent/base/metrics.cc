#include "agent/base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace lastcall {
namespace {

// Label values and HELP text: backslash and newline escaped (and '"' in label values), as the
// text format requires.
std::string Escape(std::string_view v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void AppendLabels(const MetricLabels& labels, const std::string* le, std::string& out) {
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + Escape(v, true) + "\"";
  }
  if (le != nullptr) out += std::string(first ? "" : ",") + "le=\"" + *le + "\"";
  out += '}';
}

void AppendSample(const std::string& name, const MetricLabels& labels, double value,
                  std::string& out, const std::string* le = nullptr) {
  out += name;
  AppendLabels(labels, le, out);
  out += ' ' + RenderValue(value) + '\n';
}

}  // namespace

Metrics::Family& Metrics::FamilyFor(std::string_view name, Type type) {
  auto it = families_.find(name);
  if (it == families_.end())
    it = families_.emplace(std::string(name), Family{type, {}, {}, {}}).first;
  return it->second;
}

Metrics::Series& Metrics::SeriesFor(Family& family, const MetricLabels& labels) {
  auto [it, inserted] = family.series.try_emplace(labels);
  if (inserted && family.type == Type::kHistogram)
    it->second.buckets.assign(family.bounds.size(), 0);
  return it->second;
}

void Metrics::DeclareCounter(std::string_view name, std::string_view help,
                             const std::vector<MetricLabels>& series) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, Type::kCounter);
  f.help = help;
  for (const MetricLabels& labels : series) SeriesFor(f, labels);
}

void Metrics::DeclareGauge(std::string_view name, std::string_view help) {
  std::lock_guard lock(mu_);
  FamilyFor(name, Type::kGauge).help = help;
}

void Metrics::DeclareHistogram(std::string_view name, std::string_view help,
                               std::vector<double> bounds,
                               const std::vector<MetricLabels>& series) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, Type::kHistogram);
  f.help = help;
  std::sort(bounds.begin(), bounds.end());
  // Bounds fixed by the first declaration that gives any, so recorded buckets stay meaningful.
  if (f.bounds.empty() && f.series.empty()) f.bounds = std::move(bounds);
  for (const MetricLabels& labels : series) SeriesFor(f, labels);
}

void Metrics::Increment(std::string_view name, const MetricLabels& labels, double by) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, Type::kCounter);
  SeriesFor(f, labels).value += by;
}

void Metrics::Set(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, Type::kGauge);
  SeriesFor(f, labels).value = value;
}

void Metrics::Observe(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, Type::kHistogram);
  Series& s = SeriesFor(f, labels);
  s.value += value;
  s.count += 1;
  // The first bucket whose bound holds the value; beyond the last, only +Inf (the count).
  auto b = std::lower_bound(f.bounds.begin(), f.bounds.end(), value);
  if (b != f.bounds.end() && !s.buckets.empty()) s.buckets[b - f.bounds.begin()] += 1;
}

double Metrics::Value(std::string_view name, const MetricLabels& labels) const {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(labels);
  if (s == f->second.series.end()) return 0;
  return f->second.type == Type::kHistogram ? s->second.count : s->second.value;
}

bool Metrics::Has(std::string_view name) const {
  std::lock_guard lock(mu_);
  return families_.find(name) != families_.end();
}

void Metrics::RenderFamily(const std::string& name, const Family& family, std::string& out) {
  if (!family.help.empty()) out += "# HELP " + name + " " + Escape(family.help, false) + "\n";
  const char* type = family.type == Type::kCounter ? "counter"
                     : family.type == Type::kGauge ? "gauge"
                                                   : "histogram";
  out += "# TYPE " + name + " " + type + "\n";
  for (const auto& [labels, series] : family.series) {
    if (family.type != Type::kHistogram) {
      AppendSample(name, labels, series.value, out);
      continue;
    }
    double cumulative = 0;
    for (size_t i = 0; i < family.bounds.size(); ++i) {
      cumulative += series.buckets[i];
      const std::string le = RenderValue(family.bounds[i]);
      AppendSample(name + "_bucket", labels, cumulative, out, &le);
    }
    const std::string inf = "+Inf";
    AppendSample(name + "_bucket", labels, series.count, out, &inf);
    AppendSample(name + "_sum", labels, series.value, out);
    AppendSample(name + "_count", labels, series.count, out);
  }
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) RenderFamily(name, family, out);
  return out;
}

}  // namespace lastcall
