// PriceModel: how a pool's spot price moves on its own, as pure step functions.
//
//   fixed   the price stays where it is set
//   trace   (offset, price) steps from the model's start, optionally looping every `period`
//   walk    seeded mean-reverting random walk every `step`, within [floor, on-demand]
//   demand  every `step` the price moves `smoothing` of the way to
//           base + (on_demand - base) * utilisation^2 (rises with the pool's usage)
//
// The Market owns the timing: PriceModelFirstDue gives the first step time, PriceModelStep
// computes one step and the next due time. All step times are exact multiples from the model's
// start, so advancing in one jump or many small ones gives the same steps. Prices are rounded to
// 4 decimals (USD/hour) and clamped to [0, on_demand]: the spot price never exceeds on-demand.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/core/rng.h"

namespace lastcall::mock {

enum class PriceModelKind { kFixed, kTrace, kWalk, kDemand };
std::string_view PriceModelKindName(PriceModelKind kind);
Result<PriceModelKind> ParsePriceModelKind(std::string_view s);

struct TraceStep {
  Duration offset{0};  // from the model's start
  double price = 0;
};

struct PriceModel {
  PriceModelKind kind = PriceModelKind::kFixed;
  // trace
  std::vector<TraceStep> steps;  // strictly increasing offsets
  bool loop = false;
  Duration period{0};  // loop length; > last offset when loop
  // walk and demand
  Duration step{std::chrono::minutes(5)};
  // walk
  double mean = 0;         // the level it reverts to
  double floor = 0;        // lower bound
  double volatility = 0;   // max noise per step, as a fraction of mean
  double reversion = 0.1;  // share of the distance to mean closed per step, in [0, 1]
  // demand
  double base = 0;         // price at zero utilisation
  double smoothing = 0.5;  // in (0, 1]
};

// The shortest walk/demand step and looping trace period. Every step is an event and a
// history point; a 1 ms step made 583k events per virtual 10 minutes and starved the server.
inline constexpr Duration kMinPriceStep = std::chrono::seconds(1);

// Checks the model against the pool's on-demand price; the error names the bad field.
Status ValidatePriceModel(const PriceModel& model, double on_demand);

// Per-pool running state of a model.
struct PriceModelState {
  WallTime start{};        // when the model was installed
  int64_t step_index = 0;  // walk/demand: steps done; trace: index of the next step
  int64_t cycle = 0;       // trace loop cycles completed
  Rng rng{0};              // walk noise (a stream of its own per pool)
};

// The price a pool starts at under this model, when the scenario gives none.
double InitialPrice(const PriceModel& model);

// When the first step is due for a model installed at state.start; nullopt if never.
std::optional<WallTime> PriceModelFirstDue(const PriceModel& model, const PriceModelState& state);

struct PriceStep {
  double price = 0;                  // the new price (may equal the current one)
  std::optional<WallTime> next_due;  // nullopt: no further steps
};

// Runs the step due at `now` (== the due time the Market was given).
PriceStep PriceModelStep(const PriceModel& model, PriceModelState& state, double current,
                         double on_demand, double utilisation, WallTime now);

double RoundPrice(double price);        // to 4 decimals
std::string FormatPrice(double price);  // "0.1520"

}  // namespace lastcall::mock
