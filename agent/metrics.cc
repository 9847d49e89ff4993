#include "agent/metrics.h"

#include <cmath>
#include <cstdio>

namespace lastcall {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string s = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) s += ',';
    s += labels[i].first + "=\"" + EscapeLabel(labels[i].second) + "\"";
  }
  return s + "}";
}

std::string RenderValue(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

Metrics::Family& Metrics::FamilyFor(const std::string& name, Type type, const std::string& help) {
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}});
  if (!inserted && it->second.help.empty()) it->second.help = help;
  return it->second;
}

void Metrics::Increment(const std::string& name, const MetricLabels& labels, double by,
                        const std::string& help) {
  std::lock_guard lock(mu_);
  FamilyFor(name, Type::kCounter, help).series[labels].value += by;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value,
                  const std::string& help) {
  std::lock_guard lock(mu_);
  FamilyFor(name, Type::kGauge, help).series[labels].value = value;
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double value,
                      const std::string& help) {
  std::lock_guard lock(mu_);
  Series& s = FamilyFor(name, Type::kSummary, help).series[labels];
  s.value += value;
  s.count += 1;
}

double Metrics::Value(const std::string& name, const MetricLabels& labels) const {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(labels);
  return s == f->second.series.end() ? 0 : s->second.value;
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) out += "# HELP " + name + " " + family.help + "\n";
    const char* type = family.type == Type::kCounter ? "counter"
                       : family.type == Type::kGauge ? "gauge"
                                                     : "summary";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, series] : family.series) {
      if (family.type == Type::kSummary) {
        out += name + "_sum" + RenderLabels(labels) + " " + RenderValue(series.value) + "\n";
        out += name + "_count" + RenderLabels(labels) + " " + RenderValue(series.count) + "\n";
      } else {
        out += name + RenderLabels(labels) + " " + RenderValue(series.value) + "\n";
      }
    }
  }
  return out;
}

}  // namespace lastcall
