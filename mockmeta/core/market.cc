#include "mockmeta/core/market.h"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/time_format.h"

namespace lastcall::mock {

namespace {

// A flavor that never lets its NextDue pass `now` would spin forever; this bounds one instant.
constexpr int kMaxTurnsPerInstant = 100000;

// Keeps a pool's price history within kMaxPriceHistory points, dropping the oldest in batches
// (a quarter over the bound) so that trimming costs O(1) per point on average.
void TrimHistory(Pool& pool) {
  if (pool.history.size() <= kMaxPriceHistory + kMaxPriceHistory / 4) return;
  pool.history.erase(pool.history.begin(),
                     pool.history.end() - static_cast<std::ptrdiff_t>(kMaxPriceHistory));
}

std::string CapacityState(int capacity) { return "capacity=" + std::to_string(capacity); }
std::string PriceState(double price) { return "price=" + FormatPrice(price); }

}  // namespace

Market::Market(MarketOptions options)
    : options_(std::move(options)),
      now_(options_.start),
      flavors_done_through_(options_.start),
      rng_(Rng(options_.seed).Fork("decisions")),
      id_rng_(Rng(options_.seed).Fork("ids")) {}

Market::~Market() = default;

// --- Flavors ------------------------------------------------------------------------------

void Market::Register(std::unique_ptr<Flavor> f) {
  assert(f && (!f->kind() || !FlavorFor(*f->kind())) && "one flavor serves each FlavorKind");
  flavors_.push_back(std::move(f));
}

const Flavor* Market::FlavorFor(FlavorKind kind) const {
  for (const std::unique_ptr<Flavor>& f : flavors_) {
    if (f->kind() == kind) return f.get();
  }
  return nullptr;
}

int Market::PendingReleases(int pool) const {
  int n = 0;
  for (const std::unique_ptr<Flavor>& f : flavors_) n += f->PendingReleases(pool);
  return n;
}

// --- Engine -------------------------------------------------------------------------------

std::optional<WallTime> Market::NextDue() const {
  std::optional<WallTime> next;
  auto consider = [&next](std::optional<WallTime> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  if (!actions_.empty()) consider(actions_.top().at);
  if (!price_due_.empty()) consider(price_due_.begin()->first);
  for (const std::unique_ptr<Flavor>& f : flavors_) consider(f->NextDue());
  return next;
}

Status Market::AdvanceTo(WallTime t) { return AdvanceTo(t, std::numeric_limits<size_t>::max()); }

Status Market::AdvanceTo(WallTime t, size_t max_work) {
  if (t < now_) {
    return CloudError(
        StatusCode::kInvalidArgument, kInvalidParameterValue,
        "cannot move virtual time back from " + FormatRfc3339(now_) + " to " + FormatRfc3339(t));
  }
  const uint64_t first_seq = log_.last_seq();
  size_t instants = 0;
  for (;;) {
    const std::optional<WallTime> next = NextDue();
    if (!next || *next > t) break;
    // Out of budget: stop at the last instant run (all of its work is done), not at t.
    if (instants + (log_.last_seq() - first_seq) >= max_work) return Status::Ok();
    ++instants;
    // Anything scheduled in the past (cannot happen through the public API) runs at now.
    const WallTime at = std::max(*next, now_);
    now_ = at;
    int turns = 0;
    while (RunOneTurn(at)) {
      if (++turns > kMaxTurnsPerInstant) {
        return Internal("simulation: work due at " + FormatRfc3339(at) +
                        " keeps rescheduling itself at the same instant (a flavor's NextDue "
                        "does not move past now)");
      }
    }
  }
  now_ = t;
  flavors_done_through_ = t;
  return Status::Ok();
}

bool Market::RunOneTurn(WallTime at) {
  bool did = false;
  // 1. Timed actions.
  while (!actions_.empty() && actions_.top().at <= at) {
    std::shared_ptr<TimedAction> action = actions_.top().action;
    actions_.pop();
    RunAction(*action, at);
    did = true;
  }
  // 2. Price-model steps, in pool order (the set orders equal times by pool index).
  while (!price_due_.empty() && price_due_.begin()->first <= at) {
    const int index = price_due_.begin()->second;
    RunPriceStep(catalog_.pool(index));
    did = true;
  }
  // 3. Flavors, in their fixed order.
  flavors_done_through_ = at;
  for (const std::unique_ptr<Flavor>& f : flavors_) {
    const std::optional<WallTime> due = f->NextDue();
    if (due && *due <= at) {
      f->RunDue(at);
      did = true;
    }
  }
  return did;
}

void Market::RunAction(const TimedAction& a, WallTime /*at*/) {
  Status s;
  switch (a.kind) {
    case TimedAction::Kind::kSetPrice:
      s = SetSpotPrice(a.pool, a.price, cause::kSchedule, a.label);
      break;
    case TimedAction::Kind::kSetCapacity:
      s = SetCapacity(a.pool, a.capacity, cause::kSchedule, a.label);
      break;
    case TimedAction::Kind::kSetPriceModel:
      s = SetPriceModel(a.pool, a.model, cause::kSchedule);
      break;
    case TimedAction::Kind::kCall:
      s = a.call ? a.call(*this, now_) : Internal("timed action without a call");
      break;
  }
  if (!s.ok())
    Log(kind::kAction, a.label, "scheduled", "failed", cause::kSchedule, CloudErrorText(s));
}

void Market::RunPriceStep(Pool& pool) {
  price_due_.erase({*pool_due_[pool.index], pool.index});
  const PriceStep step = PriceModelStep(pool.model, pool.model_state, pool.price,
                                        pool.on_demand_price, pool.Utilisation(), now_);
  pool_due_[pool.index] = step.next_due;
  if (step.next_due) price_due_.insert({*step.next_due, pool.index});
  ApplyPrice(pool, step.price, cause::kMarket, PriceModelKindName(pool.model.kind));
}

void Market::ApplyPrice(Pool& pool, double price, std::string_view cause, std::string_view detail) {
  price = RoundPrice(price);
  if (price == pool.price) return;  // no change, no history entry, no event
  const double old = pool.price;
  pool.price = price;
  if (!pool.history.empty() && pool.history.back().time == now_) {
    pool.history.back().price = price;  // two changes at one instant: the later one holds
  } else {
    pool.history.push_back({now_, price});
    TrimHistory(pool);
  }
  Log(kind::kPool, pool.id, PriceState(old), PriceState(price), cause, detail);
  NotifyPool(pool, PoolChange::kPrice);
}

void Market::NotifyPool(const Pool& pool, PoolChange what) {
  for (const std::unique_ptr<Flavor>& f : flavors_) f->OnPoolChanged(pool, what, now_);
}

void Market::InstallModel(Pool& pool, PriceModel model) {
  if (pool_due_[pool.index]) price_due_.erase({*pool_due_[pool.index], pool.index});
  pool.model = std::move(model);
  pool.model_state = PriceModelState{};
  pool.model_state.start = now_;
  // Each installation gets its own noise stream, independent of everything else drawn.
  pool.model_state.rng =
      Rng(options_.seed).Fork("price:" + pool.id + ":" + std::to_string(++model_generation_));
  pool_due_[pool.index] = PriceModelFirstDue(pool.model, pool.model_state);
  if (pool_due_[pool.index]) price_due_.insert({*pool_due_[pool.index], pool.index});
}

// --- Catalog and pools -----------------------------------------------------------------------

Result<Pool*> Market::PoolOrError(std::string_view pool_id) {
  Pool* p = catalog_.FindPool(pool_id);
  if (!p) {
    return CloudError(StatusCode::kNotFound, kInvalidPoolNotFound,
                      "no pool \"" + std::string(pool_id) + "\" (pools are \"<type>@<zone>\")");
  }
  return p;
}

Result<int> Market::AddPool(std::string_view type, std::string_view zone, int capacity,
                            PriceModel model, std::optional<double> initial_price) {
  const InstanceType* t = catalog_.FindType(type);
  if (!t) return NotFound("pool: unknown instance type \"" + std::string(type) + "\"");
  const double od = t->on_demand_price;
  if (Status s = ValidatePriceModel(model, od); !s.ok()) {
    return s.WithContext("pool " + PoolId(type, zone) + " model");
  }
  double price;
  if (initial_price) {
    price = *initial_price;
  } else if (model.kind == PriceModelKind::kFixed) {
    return InvalidArgument("pool " + PoolId(type, zone) + ": price is required for a fixed model");
  } else {
    price = InitialPrice(model);
  }
  if (!std::isfinite(price) || price < 0 || price > od) {
    return InvalidArgument("pool " + PoolId(type, zone) + ": price " + FormatPrice(price) +
                           " must be in [0, on-demand price " + FormatPrice(od) + "]");
  }
  Result<int> index = catalog_.AddPool(type, zone, capacity);
  if (!index.ok()) return index;
  Pool& pool = catalog_.pool(*index);
  pool.price = RoundPrice(price);
  pool.history.push_back({now_, pool.price});
  pool_due_.resize(catalog_.pools().size());
  InstallModel(pool, std::move(model));
  Log(kind::kPool, pool.id, "", PriceState(pool.price) + " " + CapacityState(capacity),
      cause::kScenario, PriceModelKindName(pool.model.kind));
  return index;
}

Status Market::SetSpotPrice(std::string_view pool_id, double price, std::string_view cause,
                            std::string_view detail) {
  Result<Pool*> pool = PoolOrError(pool_id);
  if (!pool.ok()) return pool.status();
  Pool& p = **pool;
  if (!std::isfinite(price) || price < 0 || price > p.on_demand_price) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      "spot price " + FormatPrice(price) + " for " + p.id +
                          " must be in [0, on-demand price " + FormatPrice(p.on_demand_price) +
                          "]");
  }
  ApplyPrice(p, price, cause, detail);
  return Status::Ok();
}

Status Market::SetCapacity(std::string_view pool_id, int capacity, std::string_view cause,
                           std::string_view detail) {
  Result<Pool*> pool = PoolOrError(pool_id);
  if (!pool.ok()) return pool.status();
  Pool& p = **pool;
  if (capacity < 0) {
    return CloudError(
        StatusCode::kInvalidArgument, kInvalidParameterValue,
        "capacity " + std::to_string(capacity) + " for " + p.id + " must not be negative");
  }
  if (capacity == p.capacity) return Status::Ok();
  const int old = p.capacity;
  p.capacity = capacity;
  std::string d(detail);
  if (p.Shortage() > 0) {
    if (!d.empty()) d += "; ";
    d += "stock shortage: " + std::to_string(p.spot_running) + " running > capacity " +
         std::to_string(capacity);
  }
  Log(kind::kPool, p.id, CapacityState(old), CapacityState(capacity), cause, d);
  NotifyPool(p, PoolChange::kCapacity);
  return Status::Ok();
}

Status Market::SetPriceModel(std::string_view pool_id, PriceModel model, std::string_view cause) {
  Result<Pool*> pool = PoolOrError(pool_id);
  if (!pool.ok()) return pool.status();
  Pool& p = **pool;
  if (Status s = ValidatePriceModel(model, p.on_demand_price); !s.ok()) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      "price model for " + p.id + ": " + s.message());
  }
  const std::string old(PriceModelKindName(p.model.kind));
  InstallModel(p, std::move(model));
  Log(kind::kPool, p.id, "model=" + old, "model=" + std::string(PriceModelKindName(p.model.kind)),
      cause);
  NotifyPool(p, PoolChange::kModel);
  return Status::Ok();
}

// --- Capacity accounting -----------------------------------------------------------------------

Status Market::AcquireSpotSlot(Instance& inst) {
  if (inst.holds_slot) return Status::Ok();
  if (inst.pool < 0 || inst.pool >= static_cast<int>(catalog_.pools().size())) {
    return CloudError(
        StatusCode::kNotFound, kInvalidPoolNotFound,
        "instance " + inst.id + " has no spot pool (" + PoolId(inst.type, inst.zone) + ")");
  }
  Pool& p = catalog_.pool(inst.pool);
  if (p.Free() <= 0) {
    return CloudError(StatusCode::kResourceExhausted, kInsufficientCapacity,
                      "no spot capacity left in " + p.id + " (" + std::to_string(p.spot_running) +
                          " of " + std::to_string(p.capacity) + " in use)");
  }
  ++p.spot_running;
  inst.holds_slot = true;
  NotifyPool(p, PoolChange::kUsage);
  return Status::Ok();
}

void Market::ReleaseSpotSlot(Instance& inst) {
  if (!inst.holds_slot) return;
  Pool& p = catalog_.pool(inst.pool);
  --p.spot_running;
  inst.holds_slot = false;
  NotifyPool(p, PoolChange::kUsage);
}

// --- Instances ---------------------------------------------------------------------------------

std::string Market::NewId(std::string_view prefix, int len, bool hex) {
  static constexpr char kAlnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id(prefix);
  for (int i = 0; i < len; ++i) id += kAlnum[id_rng_.UniformInt(0, hex ? 15 : 35)];
  return id;
}

std::string Market::NewInstanceId(FlavorKind flavor) {
  for (;;) {
    std::string id = flavor == FlavorKind::kAws ? NewId("i-", 17, true) : NewId("i-", 20, false);
    if (!instances_.count(id)) return id;
  }
}

Result<Instance*> Market::AddInstance(Instance inst, bool take_slot, std::string_view cause,
                                      std::string_view detail) {
  const Zone* zone = catalog_.FindZone(inst.zone);
  if (!zone) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      "unknown zone \"" + inst.zone + "\"");
  }
  if (!catalog_.FindType(inst.type)) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      "unknown instance type \"" + inst.type + "\"");
  }
  const Pool* pool = catalog_.FindPool(PoolId(inst.type, inst.zone));
  if (take_slot) {
    if (!pool) {
      return CloudError(StatusCode::kInvalidArgument, kInvalidPoolNotFound,
                        "no spot pool for " + PoolId(inst.type, inst.zone));
    }
    if (pool->Free() <= 0) {
      return CloudError(StatusCode::kResourceExhausted, kInsufficientCapacity,
                        "no spot capacity left in " + pool->id);
    }
  }
  if (inst.id.empty()) inst.id = NewInstanceId(inst.flavor);
  if (instances_.count(inst.id)) {
    return CloudError(StatusCode::kAlreadyExists, kInvalidParameterValue,
                      "instance id " + inst.id + " already exists");
  }
  // Validation done; from here on nothing fails.
  inst.region = zone->region;
  inst.pool = pool ? pool->index : -1;
  inst.holds_slot = false;
  inst.launch_time = now_;
  const uint64_t n = ++identity_counter_;
  char buf[64];
  if (inst.private_ip.empty()) {
    std::snprintf(buf, sizeof buf, "10.%u.%u.%u", static_cast<unsigned>((n >> 16) & 0xff),
                  static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff));
    inst.private_ip = buf;
  }
  if (inst.mac.empty()) {
    // Alibaba's instances have MACs in its own OUI 00:16:3e; AWS's are locally administered.
    if (inst.flavor == FlavorKind::kAlibaba) {
      std::snprintf(buf, sizeof buf, "00:16:3e:%02x:%02x:%02x",
                    static_cast<unsigned>((n >> 16) & 0xff), static_cast<unsigned>((n >> 8) & 0xff),
                    static_cast<unsigned>(n & 0xff));
    } else {
      std::snprintf(buf, sizeof buf, "02:00:%02x:%02x:%02x:%02x",
                    static_cast<unsigned>((n >> 24) & 0xff),
                    static_cast<unsigned>((n >> 16) & 0xff), static_cast<unsigned>((n >> 8) & 0xff),
                    static_cast<unsigned>(n & 0xff));
    }
    inst.mac = buf;
  }
  if (inst.hostname.empty()) {
    if (inst.flavor == FlavorKind::kAws) {
      std::string h = "ip-" + inst.private_ip;
      for (char& c : h) c = c == '.' ? '-' : c;
      inst.hostname = h + "." + inst.region + ".compute.internal";
    } else {
      inst.hostname = "iZ" + inst.id.substr(2) + "Z";
    }
  }
  if (inst.image_id.empty()) {
    inst.image_id =
        inst.flavor == FlavorKind::kAws ? "ami-0abcdef1234567890" : "m-mockmetaimage000001";
  }
  if (inst.account_id.empty()) inst.account_id = options_.account_id;
  const std::string id = inst.id;
  const InstanceState state = inst.state;
  Instance& stored = instances_.emplace(id, std::move(inst)).first->second;
  Log(kind::kInstance, id, "", InstanceStateName(state), cause, detail);
  if (take_slot) {
    // Cannot fail: checked above, and nothing in between changed the pool.
    (void)AcquireSpotSlot(stored);
  }
  return &stored;
}

Instance* Market::FindInstance(std::string_view id) {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

const Instance* Market::FindInstance(std::string_view id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

void Market::SetInstanceState(Instance& inst, InstanceState state, std::string_view cause,
                              std::string_view detail) {
  if (inst.state == state) return;
  const InstanceState old = inst.state;
  inst.state = state;
  if (state == InstanceState::kTerminated) {
    inst.end_time = now_;
    ReleaseSpotSlot(inst);
  }
  Log(kind::kInstance, inst.id, InstanceStateName(old), InstanceStateName(state), cause, detail);
}

Status Market::SetInstanceSettings(std::string_view instance_id, InstanceSettings settings,
                                   std::string_view cause) {
  Instance* inst = FindInstance(instance_id);
  if (!inst) {
    return CloudError(StatusCode::kNotFound, kInvalidInstanceIdNotFound,
                      "no instance \"" + std::string(instance_id) + "\"");
  }
  if (std::optional<InstanceSettingsProblem> p = CheckInstanceSettings(settings)) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      p->field + ": " + p->message);
  }
  inst->settings = std::move(settings);
  const std::string_view state = InstanceStateName(inst->state);
  Log(kind::kInstance, inst->id, state, state, cause, "settings changed");
  return Status::Ok();
}

Result<MetadataView> Market::Metadata(std::string_view instance_id) const {
  const Instance* inst = FindInstance(instance_id);
  if (!inst) {
    return CloudError(StatusCode::kNotFound, kInvalidInstanceIdNotFound,
                      "no instance \"" + std::string(instance_id) + "\"");
  }
  MetadataView v;
  v.flavor = inst->flavor;
  v.instance_id = inst->id;
  v.instance_type = inst->type;
  v.zone = inst->zone;
  v.region = inst->region;
  v.name = inst->name;
  v.hostname = inst->hostname;
  v.private_ip = inst->private_ip;
  v.mac = inst->mac;
  v.image_id = inst->image_id;
  v.account_id = inst->account_id;
  v.launch_time = inst->launch_time;
  v.state = inst->state;
  v.now = now_;
  v.settings = inst->settings;
  v.instance_life_cycle = inst->spot ? "spot" : "on-demand";
  if (const Flavor* f = FlavorFor(inst->flavor)) f->FillMetadata(*inst, v);
  return v;
}

// --- Timed actions and the log ---------------------------------------------------------------

Result<uint64_t> Market::Schedule(TimedAction action) {
  if (action.at < now_) {
    return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                      "action \"" + action.label + "\" at " + FormatRfc3339(action.at) +
                          " is before the current virtual time " + FormatRfc3339(now_));
  }
  if (action.kind == TimedAction::Kind::kCall) {
    if (!action.call) return Internal("action \"" + action.label + "\" has no call");
  } else {
    const Pool* p = catalog_.FindPool(action.pool);
    if (!p) {
      return CloudError(StatusCode::kNotFound, kInvalidPoolNotFound,
                        "action \"" + action.label + "\": no pool \"" + action.pool + "\"");
    }
    // Check now what would fail later, so a bad scenario is refused at load time.
    if (action.kind == TimedAction::Kind::kSetPrice &&
        (!std::isfinite(action.price) || action.price < 0 || action.price > p->on_demand_price)) {
      return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                        "action \"" + action.label + "\": price " + FormatPrice(action.price) +
                            " must be in [0, on-demand price " + FormatPrice(p->on_demand_price) +
                            "]");
    }
    if (action.kind == TimedAction::Kind::kSetCapacity && action.capacity < 0) {
      return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                        "action \"" + action.label + "\": capacity must not be negative");
    }
    if (action.kind == TimedAction::Kind::kSetPriceModel) {
      if (Status s = ValidatePriceModel(action.model, p->on_demand_price); !s.ok()) {
        return CloudError(StatusCode::kInvalidArgument, kInvalidParameterValue,
                          "action \"" + action.label + "\": model " + s.message());
      }
    }
  }
  const uint64_t seq = ++action_seq_;
  const WallTime at = action.at;
  actions_.push({at, seq, std::make_shared<TimedAction>(std::move(action))});
  return seq;
}

uint64_t Market::Log(std::string_view kind_name, std::string_view id, std::string_view old_state,
                     std::string_view new_state, std::string_view cause_name,
                     std::string_view detail) {
  Event e;
  e.time = now_;
  e.kind = kind_name;
  e.id = id;
  e.old_state = old_state;
  e.new_state = new_state;
  e.cause = cause_name;
  e.detail = detail;
  return log_.Append(std::move(e));
}

}  // namespace lastcall::mock
