// CloudApiContext: how a cloud-API face (EC2, ECS) reaches the one market the control API and
// IMDS share.
//
// With(f) runs f(Market&, FaceFlavor&, State&) under the market's lock, the market advanced to now,
// including work a change at this very instant left due (a control API price change on a manual
// clock is evaluated before the face answers, as IMDS would see it at the next tick). `State` is
// what the face keeps beside the market (tags, client tokens, ...); FaceFlavor is the flavor the
// face speaks for (the EC2 face: AwsFlavor, World::aws), handed over typed by the World, so a face
// never casts a Flavor. State has a `generation` field, and a
// loaded scenario (a new MarketHost generation) starts it over. A failed advance becomes the
// face's own error through `from_status`.
//
// Thread-safety: With() serialises on the market's lock; Changed() may be called from any thread.
#pragma once

#include <functional>
#include <optional>
#include <utility>

#include "common/status.h"
#include "mockmeta/core/market.h"
#include "mockmeta/core/world.h"
#include "mockmeta/host/market_host.h"

namespace lastcall::mock {

template <typename State, typename Error, Error (*from_status)(const Status&), typename FaceFlavor,
          FaceFlavor& (World::*face_flavor)()>
class CloudApiContext {
 public:
  using MaybeError = std::optional<Error>;

  CloudApiContext(MarketHost& host, std::function<void()> on_change)
      : host_(host), on_change_(std::move(on_change)) {}

  template <typename F>
  MaybeError With(F&& f) {
    return host_.WithWorld([&](World& world, VirtualClock&) -> MaybeError {
      if (state_.generation != host_.generation()) {
        state_ = State{};
        state_.generation = host_.generation();
      }
      if (Status s = world.AdvanceTo(world.now()); !s.ok()) return from_status(s);
      Market& market = world;
      return std::forward<F>(f)(market, (world.*face_flavor)(), state_);
    });
  }
  // After a mutation: wakes the control API's event followers.
  void Changed() const {
    if (on_change_) on_change_();
  }

 private:
  MarketHost& host_;
  std::function<void()> on_change_;
  State state_;
};

}  // namespace lastcall::mock
