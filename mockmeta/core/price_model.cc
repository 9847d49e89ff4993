#include "mockmeta/core/price_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/time_format.h"

namespace lastcall::mock {

std::string_view PriceModelKindName(PriceModelKind kind) {
  switch (kind) {
    case PriceModelKind::kFixed:
      return "fixed";
    case PriceModelKind::kTrace:
      return "trace";
    case PriceModelKind::kWalk:
      return "walk";
    case PriceModelKind::kDemand:
      return "demand";
  }
  return "unknown";
}

Result<PriceModelKind> ParsePriceModelKind(std::string_view s) {
  if (s == "fixed") return PriceModelKind::kFixed;
  if (s == "trace") return PriceModelKind::kTrace;
  if (s == "walk") return PriceModelKind::kWalk;
  if (s == "demand") return PriceModelKind::kDemand;
  return InvalidArgument("price model \"" + std::string(s) +
                         "\" is not one of fixed, trace, walk, demand");
}

double RoundPrice(double price) { return std::round(price * 10000.0) / 10000.0; }

std::string FormatPrice(double price) {
  // Integer formatting: this runs for every logged price change, and printf("%.4f") is slow.
  if (!std::isfinite(price) || std::fabs(price) > 1e12) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f", price);
    return buf;
  }
  long long units = std::llround(price * 10000.0);
  std::string out;
  if (units < 0) {
    out += '-';
    units = -units;
  }
  out += std::to_string(units / 10000);
  out += '.';
  const std::string frac = std::to_string(units % 10000);
  out.append(4 - frac.size(), '0');
  out += frac;
  return out;
}

namespace {

bool BadPrice(double p) { return !std::isfinite(p) || p < 0; }

Status PriceOutOfRange(std::string_view field, double p, double on_demand) {
  return InvalidArgument(std::string(field) + " " + FormatPrice(p) +
                         " must be in [0, on-demand price " + FormatPrice(on_demand) + "]");
}

double Clamp(double p, double lo, double hi) { return RoundPrice(std::clamp(p, lo, hi)); }

Status CheckStep(Duration step) {
  if (step < kMinPriceStep) {
    return InvalidArgument("step " + FormatDuration(step) + " is shorter than " +
                           FormatDuration(kMinPriceStep) + ", the shortest model step");
  }
  return Status::Ok();
}

}  // namespace

Status ValidatePriceModel(const PriceModel& m, double on_demand) {
  switch (m.kind) {
    case PriceModelKind::kFixed:
      return Status::Ok();
    case PriceModelKind::kTrace: {
      if (m.steps.empty()) return InvalidArgument("steps: a trace needs at least one step");
      for (size_t i = 0; i < m.steps.size(); ++i) {
        const auto& s = m.steps[i];
        const std::string where = "steps[" + std::to_string(i) + "]";
        if (s.offset.count() < 0) return InvalidArgument(where + ".at must not be negative");
        if (i > 0 && s.offset <= m.steps[i - 1].offset) {
          return InvalidArgument(where + ".at must be later than the step before it");
        }
        if (BadPrice(s.price) || s.price > on_demand) {
          return PriceOutOfRange(where + ".price", s.price, on_demand);
        }
      }
      if (m.loop && m.period <= m.steps.back().offset) {
        return InvalidArgument(
            "period must be longer than the last step's offset when loop = true");
      }
      if (m.loop && m.period < kMinPriceStep) {
        return InvalidArgument("period " + FormatDuration(m.period) + " is shorter than " +
                               FormatDuration(kMinPriceStep) + ", the shortest model period");
      }
      return Status::Ok();
    }
    case PriceModelKind::kWalk:
      if (Status s = CheckStep(m.step); !s.ok()) return s;
      if (BadPrice(m.floor) || m.floor > on_demand) {
        return PriceOutOfRange("floor", m.floor, on_demand);
      }
      if (BadPrice(m.mean) || m.mean < m.floor || m.mean > on_demand) {
        return InvalidArgument("mean " + FormatPrice(m.mean) + " must be in [floor " +
                               FormatPrice(m.floor) + ", on-demand price " +
                               FormatPrice(on_demand) + "]");
      }
      if (!std::isfinite(m.volatility) || m.volatility < 0 || m.volatility > 1) {
        return InvalidArgument("volatility must be in [0, 1]");
      }
      if (!std::isfinite(m.reversion) || m.reversion < 0 || m.reversion > 1) {
        return InvalidArgument("reversion must be in [0, 1]");
      }
      return Status::Ok();
    case PriceModelKind::kDemand:
      if (Status s = CheckStep(m.step); !s.ok()) return s;
      if (BadPrice(m.base) || m.base > on_demand) return PriceOutOfRange("base", m.base, on_demand);
      if (!std::isfinite(m.smoothing) || m.smoothing <= 0 || m.smoothing > 1) {
        return InvalidArgument("smoothing must be in (0, 1]");
      }
      return Status::Ok();
  }
  return InvalidArgument("unknown price model");
}

double InitialPrice(const PriceModel& m) {
  switch (m.kind) {
    case PriceModelKind::kTrace:
      return m.steps.empty() ? 0 : m.steps.front().price;
    case PriceModelKind::kWalk:
      return m.mean;
    case PriceModelKind::kDemand:
      return m.base;
    case PriceModelKind::kFixed:
      break;
  }
  return 0;
}

namespace {

std::optional<WallTime> TraceDue(const PriceModel& m, const PriceModelState& s) {
  if (s.step_index >= static_cast<int64_t>(m.steps.size())) {
    if (!m.loop) return std::nullopt;
    return s.start + m.period * (s.cycle + 1) + m.steps.front().offset;
  }
  return s.start + m.period * s.cycle + m.steps[s.step_index].offset;
}

}  // namespace

std::optional<WallTime> PriceModelFirstDue(const PriceModel& m, const PriceModelState& s) {
  switch (m.kind) {
    case PriceModelKind::kFixed:
      return std::nullopt;
    case PriceModelKind::kTrace:
      return TraceDue(m, s);
    case PriceModelKind::kWalk:
    case PriceModelKind::kDemand:
      return s.start + m.step * (s.step_index + 1);
  }
  return std::nullopt;
}

PriceStep PriceModelStep(const PriceModel& m, PriceModelState& s, double current, double on_demand,
                         double utilisation, WallTime /*now*/) {
  PriceStep out{current, std::nullopt};
  switch (m.kind) {
    case PriceModelKind::kFixed:
      return out;
    case PriceModelKind::kTrace: {
      if (s.step_index >= static_cast<int64_t>(m.steps.size())) {
        // Only reached when looping: wrap to the next cycle's first step.
        s.step_index = 0;
        ++s.cycle;
      }
      out.price = Clamp(m.steps[s.step_index].price, 0, on_demand);
      ++s.step_index;
      out.next_due = TraceDue(m, s);
      return out;
    }
    case PriceModelKind::kWalk: {
      const double noise = m.volatility * m.mean * (2.0 * s.rng.UniformDouble() - 1.0);
      out.price = Clamp(current + m.reversion * (m.mean - current) + noise, m.floor, on_demand);
      ++s.step_index;
      out.next_due = s.start + m.step * (s.step_index + 1);
      return out;
    }
    case PriceModelKind::kDemand: {
      const double u = std::clamp(utilisation, 0.0, 1.0);
      const double target = m.base + (on_demand - m.base) * u * u;
      out.price = Clamp(current + m.smoothing * (target - current), 0, on_demand);
      ++s.step_index;
      out.next_due = s.start + m.step * (s.step_index + 1);
      return out;
    }
  }
  return out;
}

}  // namespace lastcall::mock
