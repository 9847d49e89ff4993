#include "mockmeta/core/scenario.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "common/files.h"
#include "common/time_format.h"
#include "common/toml_prevalidate.h"
#include "mockmeta/core/scenario_context.h"
#include "mockmeta/core/virtual_clock.h"

namespace lastcall::mock {

// --- ScenarioContext -----------------------------------------------------------------------

std::string ScenarioContext::Where(const toml::source_region& where) const {
  const auto& b = where.begin;
  return source_ + ":" + std::to_string(b.line) + ":" + std::to_string(b.column);
}

Status ScenarioContext::Error(const toml::source_region& where, std::string_view path,
                              std::string_view key, std::string_view message) const {
  std::string m = Where(where) + ": " + std::string(path);
  if (!key.empty()) {
    if (!path.empty()) m += '.';
    m += key;
  }
  m += ": ";
  m += message;
  return InvalidArgument(std::move(m));
}

Status ScenarioContext::CheckKeys(const toml::table& table, std::string_view path,
                                  std::initializer_list<std::string_view> allowed) const {
  for (const auto& [k, v] : table) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || k.str() == a;
    if (!ok) {
      std::string expected;
      for (std::string_view a : allowed)
        expected += (expected.empty() ? "" : ", ") + std::string(a);
      return Error(k.source(), path, k.str(),
                   expected.empty() ? "unknown key (nothing is accepted here yet)"
                                    : "unknown key (expected one of: " + expected + ")");
    }
  }
  return Status::Ok();
}

const toml::node& ScenarioContext::NodeOr(const toml::table& t, std::string_view key) const {
  const toml::node* n = t.get(key);
  return n ? *n : t;
}

Result<std::string> ScenarioContext::String(const toml::table& t, std::string_view path,
                                            std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return Error(t, path, key, "missing (a string is required)");
  if (!n->is_string()) return Error(*n, path, key, "must be a string");
  const std::string& v = n->as_string()->get();
  if (v.find('\0') != std::string::npos) return Error(*n, path, key, "contains a NUL character");
  return v;
}

Result<double> ScenarioContext::Number(const toml::table& t, std::string_view path,
                                       std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return Error(t, path, key, "missing (a number is required)");
  if (n->is_floating_point()) {
    const double d = n->as_floating_point()->get();
    if (!std::isfinite(d)) return Error(*n, path, key, "must be a finite number");
    // -0.0 compares equal to 0 and slips past every "not negative" check, then prints as
    // "-0.0000"; no field here means anything by a negative zero.
    if (d == 0 && std::signbit(d)) return Error(*n, path, key, "is -0.0; write 0");
    return d;
  }
  if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
  return Error(*n, path, key, "must be a number");
}

Result<int64_t> ScenarioContext::Integer(const toml::table& t, std::string_view path,
                                         std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return Error(t, path, key, "missing (an integer is required)");
  if (!n->is_integer()) return Error(*n, path, key, "must be an integer");
  return n->as_integer()->get();
}

Result<bool> ScenarioContext::Bool(const toml::table& t, std::string_view path,
                                   std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return Error(t, path, key, "missing (true or false is required)");
  if (!n->is_boolean()) return Error(*n, path, key, "must be true or false");
  return n->as_boolean()->get();
}

Result<Duration> ScenarioContext::DurationValue(const toml::table& t, std::string_view path,
                                                std::string_view key) const {
  Result<std::string> s = String(t, path, key);
  if (!s.ok()) return s.status();
  Result<Duration> d = ParseDuration(*s);
  if (!d.ok()) return Error(NodeOr(t, key), path, key, d.status().message());
  return *d;
}

Result<WallTime> ScenarioContext::Time(const toml::table& t, std::string_view path,
                                       std::string_view key) const {
  Result<std::string> s = String(t, path, key);
  if (!s.ok()) return s.status();
  WallTime at;
  // A date starts with four digits and a dash; anything else is an offset from the start.
  const bool absolute = s->size() > 4 && (*s)[4] == '-';
  if (absolute) {
    Result<WallTime> r = ParseVirtualTime(*s);
    if (!r.ok()) return Error(NodeOr(t, key), path, key, r.status().message());
    at = *r;
  } else {
    Result<Duration> d = ParseDuration(*s);
    if (!d.ok()) {
      return Error(NodeOr(t, key), path, key,
                   "\"" + *s + "\" is neither an offset like \"90m\" nor an RFC 3339 time");
    }
    if (*d > LatestVirtualTime() - world_.start()) {
      return Error(NodeOr(t, key), path, key,
                   "\"" + *s + "\" from the start is after " + FormatRfc3339(LatestVirtualTime()) +
                       " (times are 64-bit nanoseconds)");
    }
    at = world_.start() + *d;
  }
  if (at < world_.start()) {
    return Error(NodeOr(t, key), path, key,
                 "is before the scenario start " + FormatRfc3339(world_.start()));
  }
  return at;
}

Result<const toml::array*> ScenarioContext::TableArray(const toml::table& t, std::string_view path,
                                                       std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return static_cast<const toml::array*>(nullptr);
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables()) {
    return Error(*n, path, key, "must be an array of tables ([[" + std::string(key) + "]])");
  }
  return a;
}

// --- The base loader -------------------------------------------------------------------------

namespace {

std::string Indexed(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

Result<int> IntIn(const ScenarioContext& ctx, const toml::table& t, std::string_view path,
                  std::string_view key, int64_t lo, int64_t hi) {
  Result<int64_t> v = ctx.Integer(t, path, key);
  if (!v.ok()) return v.status();
  if (*v < lo || *v > hi) {
    return ctx.Error(*t.get(key), path, key,
                     "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(*v);
}

Status LoadZones(const toml::table& root, ScenarioContext& ctx) {
  Result<const toml::array*> arr = ctx.TableArray(root, "", "zone");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("zone", i);
    LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"name", "region"}));
    Result<std::string> name = ctx.String(t, path, "name");
    if (!name.ok()) return name.status();
    Result<std::string> region = ctx.String(t, path, "region");
    if (!region.ok()) return region.status();
    Status s = ctx.market().AddZone(Zone{*name, *region});
    if (!s.ok()) return ctx.Error(t, path, "", s.message());
  }
  return Status::Ok();
}

Status LoadTypes(const toml::table& root, ScenarioContext& ctx) {
  Result<const toml::array*> arr = ctx.TableArray(root, "", "instance_type");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("instance_type", i);
    LASTCALL_RETURN_IF_ERROR(
        ctx.CheckKeys(t, path, {"name", "vcpu", "memory_gib", "on_demand_price"}));
    InstanceType type;
    Result<std::string> name = ctx.String(t, path, "name");
    if (!name.ok()) return name.status();
    type.name = *name;
    Result<int> vcpu = IntIn(ctx, t, path, "vcpu", 1, 100000);
    if (!vcpu.ok()) return vcpu.status();
    type.vcpu = *vcpu;
    Result<double> mem = ctx.Number(t, path, "memory_gib");
    if (!mem.ok()) return mem.status();
    type.memory_gib = *mem;
    Result<double> od = ctx.Number(t, path, "on_demand_price");
    if (!od.ok()) return od.status();
    type.on_demand_price = *od;
    Status s = ctx.market().AddType(std::move(type));
    if (!s.ok()) return ctx.Error(t, path, "", s.message());
  }
  return Status::Ok();
}

// Reads a [pool.model] / action model table. `path` is e.g. "pool[0].model".
Result<PriceModel> LoadModel(const toml::table& t, std::string_view path,
                             const ScenarioContext& ctx) {
  PriceModel m;
  Result<std::string> kind_name = ctx.String(t, path, "kind");
  if (!kind_name.ok()) return kind_name.status();
  Result<PriceModelKind> kind = ParsePriceModelKind(*kind_name);
  if (!kind.ok()) return ctx.Error(*t.get("kind"), path, "kind", kind.status().message());
  m.kind = *kind;
  switch (m.kind) {
    case PriceModelKind::kFixed:
      LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"kind"}));
      break;
    case PriceModelKind::kTrace: {
      LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"kind", "steps", "loop", "period"}));
      const toml::node* steps = t.get("steps");
      if (!steps) return ctx.Error(t, path, "steps", "missing (a trace needs steps)");
      const toml::array* a = steps->as_array();
      if (!a || !a->is_array_of_tables()) {
        return ctx.Error(*steps, path, "steps",
                         "must be an array of tables like [{ at = \"0s\", price = 0.1 }]");
      }
      for (size_t i = 0; i < a->size(); ++i) {
        const toml::table& st = *a->get(i)->as_table();
        const std::string sp = std::string(path) + "." + Indexed("steps", i);
        LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(st, sp, {"at", "price"}));
        Result<Duration> at = ctx.DurationValue(st, sp, "at");
        if (!at.ok()) return at.status();
        Result<double> price = ctx.Number(st, sp, "price");
        if (!price.ok()) return price.status();
        m.steps.push_back({*at, *price});
      }
      if (ctx.Has(t, "loop")) {
        Result<bool> loop = ctx.Bool(t, path, "loop");
        if (!loop.ok()) return loop.status();
        m.loop = *loop;
      }
      if (m.loop) {
        Result<Duration> period = ctx.DurationValue(t, path, "period");
        if (!period.ok()) return period.status();
        m.period = *period;
      } else if (ctx.Has(t, "period")) {
        return ctx.Error(*t.get("period"), path, "period", "only allowed with loop = true");
      }
      break;
    }
    case PriceModelKind::kWalk: {
      LASTCALL_RETURN_IF_ERROR(
          ctx.CheckKeys(t, path, {"kind", "step", "mean", "floor", "volatility", "reversion"}));
      Result<Duration> step = ctx.DurationValue(t, path, "step");
      if (!step.ok()) return step.status();
      m.step = *step;
      for (auto [key, field] : {std::pair{"mean", &m.mean}, std::pair{"floor", &m.floor},
                                std::pair{"volatility", &m.volatility}}) {
        Result<double> v = ctx.Number(t, path, key);
        if (!v.ok()) return v.status();
        *field = *v;
      }
      if (ctx.Has(t, "reversion")) {
        Result<double> v = ctx.Number(t, path, "reversion");
        if (!v.ok()) return v.status();
        m.reversion = *v;
      }
      break;
    }
    case PriceModelKind::kDemand: {
      LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"kind", "step", "base", "smoothing"}));
      Result<Duration> step = ctx.DurationValue(t, path, "step");
      if (!step.ok()) return step.status();
      m.step = *step;
      Result<double> base = ctx.Number(t, path, "base");
      if (!base.ok()) return base.status();
      m.base = *base;
      if (ctx.Has(t, "smoothing")) {
        Result<double> v = ctx.Number(t, path, "smoothing");
        if (!v.ok()) return v.status();
        m.smoothing = *v;
      }
      break;
    }
  }
  return m;
}

// Finds the pool of an action: `pool = "type@zone"`.
Result<const Pool*> PoolRef(const toml::table& t, std::string_view path, ScenarioContext& ctx) {
  Result<std::string> id = ctx.String(t, path, "pool");
  if (!id.ok()) return id.status();
  const Pool* p = ctx.market().catalog().FindPool(*id);
  if (!p) {
    return ctx.Error(*t.get("pool"), path, "pool",
                     "no pool \"" + *id + "\" (write \"<instance type>@<zone>\" of a [[pool]])");
  }
  return p;
}

Status LoadPools(const toml::table& root, ScenarioContext& ctx) {
  Result<const toml::array*> arr = ctx.TableArray(root, "", "pool");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("pool", i);
    LASTCALL_RETURN_IF_ERROR(
        ctx.CheckKeys(t, path, {"type", "zone", "capacity", "price", "model"}));
    Result<std::string> type = ctx.String(t, path, "type");
    if (!type.ok()) return type.status();
    const InstanceType* it = ctx.market().catalog().FindType(*type);
    if (!it) {
      return ctx.Error(*t.get("type"), path, "type",
                       "unknown instance type \"" + *type + "\" (define it in [[instance_type]])");
    }
    Result<std::string> zone = ctx.String(t, path, "zone");
    if (!zone.ok()) return zone.status();
    if (!ctx.market().catalog().FindZone(*zone)) {
      return ctx.Error(*t.get("zone"), path, "zone",
                       "unknown zone \"" + *zone + "\" (define it in [[zone]])");
    }
    Result<int> capacity = IntIn(ctx, t, path, "capacity", 0, 100'000'000);
    if (!capacity.ok()) return capacity.status();
    std::optional<double> price;
    if (ctx.Has(t, "price")) {
      Result<double> p = ctx.Number(t, path, "price");
      if (!p.ok()) return p.status();
      if (*p < 0 || *p > it->on_demand_price) {
        return ctx.Error(*t.get("price"), path, "price",
                         "must be in [0, on-demand price " + FormatPrice(it->on_demand_price) +
                             "] of " + it->name);
      }
      price = *p;
    }
    PriceModel model;
    const std::string model_path = path + ".model";
    if (const toml::node* mn = t.get("model")) {
      if (!mn->is_table()) return ctx.Error(*mn, path, "model", "must be a table");
      Result<PriceModel> m = LoadModel(*mn->as_table(), model_path, ctx);
      if (!m.ok()) return m.status();
      model = std::move(*m);
      if (Status s = ValidatePriceModel(model, it->on_demand_price); !s.ok()) {
        return ctx.Error(*mn, model_path, "", s.message());
      }
    }
    if (model.kind == PriceModelKind::kFixed && !price) {
      return ctx.Error(t, path, "price", "missing (required with a fixed price model)");
    }
    Result<int> index = ctx.market().AddPool(*type, *zone, *capacity, std::move(model), price);
    if (!index.ok()) return ctx.Error(t, path, "", index.status().message());
  }
  return Status::Ok();
}

Status LoadActions(const toml::table& root, ScenarioContext& ctx) {
  Result<const toml::array*> arr = ctx.TableArray(root, "", "action");
  if (!arr.ok()) return arr.status();
  if (!*arr) return Status::Ok();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    const toml::table& t = *(*arr)->get(i)->as_table();
    const std::string path = Indexed("action", i);
    Result<std::string> kind = ctx.String(t, path, "kind");
    if (!kind.ok()) return kind.status();
    TimedAction a;
    if (*kind == "set_price") {
      LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"at", "kind", "pool", "price"}));
      a.kind = TimedAction::Kind::kSetPrice;
    } else if (*kind == "set_capacity") {
      LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"at", "kind", "pool", "capacity"}));
      a.kind = TimedAction::Kind::kSetCapacity;
    } else if (*kind == "set_model") {
      LASTCALL_RETURN_IF_ERROR(ctx.CheckKeys(t, path, {"at", "kind", "pool", "model"}));
      a.kind = TimedAction::Kind::kSetPriceModel;
    } else {
      return ctx.Error(*t.get("kind"), path, "kind",
                       "\"" + *kind + "\" is not one of set_price, set_capacity, set_model");
    }
    Result<WallTime> at = ctx.Time(t, path, "at");
    if (!at.ok()) return at.status();
    a.at = *at;
    Result<const Pool*> pool = PoolRef(t, path, ctx);
    if (!pool.ok()) return pool.status();
    a.pool = (*pool)->id;
    a.label = ctx.Where(t) + " " + *kind;
    if (a.kind == TimedAction::Kind::kSetPrice) {
      Result<double> price = ctx.Number(t, path, "price");
      if (!price.ok()) return price.status();
      a.price = *price;
    } else if (a.kind == TimedAction::Kind::kSetCapacity) {
      Result<int> cap = IntIn(ctx, t, path, "capacity", 0, 100'000'000);
      if (!cap.ok()) return cap.status();
      a.capacity = *cap;
    } else {
      const toml::node* mn = t.get("model");
      if (!mn) return ctx.Error(t, path, "model", "missing (a model table is required)");
      if (!mn->is_table()) return ctx.Error(*mn, path, "model", "must be a table");
      Result<PriceModel> m = LoadModel(*mn->as_table(), path + ".model", ctx);
      if (!m.ok()) return m.status();
      a.model = std::move(*m);
    }
    Result<uint64_t> seq = ctx.market().Schedule(std::move(a));
    if (!seq.ok()) return ctx.Error(t, path, "", seq.status().message());
  }
  return Status::Ok();
}

Result<std::unique_ptr<World>> LoadRoot(const toml::table& root, const std::string& source,
                                        const ScenarioOptions& options) {
  // The header keys (seed, start) make the Market, so they are read with a throwaway context.
  MarketOptions opt;
  World probe;
  ScenarioContext pre(source, probe);
  LASTCALL_RETURN_IF_ERROR(pre.CheckKeys(root, "",
                                         {"seed", "start", "account_id", "zone", "instance_type",
                                          "pool", "action", "alibaba", "aws"}));
  if (root.contains("seed")) {
    Result<int64_t> seed = pre.Integer(root, "", "seed");
    if (!seed.ok()) return seed.status();
    opt.seed = static_cast<uint64_t>(*seed);
  }
  if (options.seed) opt.seed = *options.seed;
  if (root.contains("start")) {
    Result<std::string> s = pre.String(root, "", "start");
    if (!s.ok()) return s.status();
    Result<WallTime> t = ParseVirtualTime(*s);
    if (!t.ok()) return pre.Error(*root.get("start"), "", "start", t.status().message());
    opt.start = *t;
  }
  if (root.contains("account_id")) {
    Result<std::string> s = pre.String(root, "", "account_id");
    if (!s.ok()) return s.status();
    opt.account_id = *s;
  }
  auto world = std::make_unique<World>(opt);
  ScenarioContext ctx(source, *world);
  LASTCALL_RETURN_IF_ERROR(LoadZones(root, ctx));
  LASTCALL_RETURN_IF_ERROR(LoadTypes(root, ctx));
  LASTCALL_RETURN_IF_ERROR(LoadPools(root, ctx));
  LASTCALL_RETURN_IF_ERROR(LoadActions(root, ctx));
  // Flavor sections: dispatched to the flavors' own loaders.
  for (auto [key, loader] :
       {std::pair{"alibaba", &LoadAlibabaScenario}, std::pair{"aws", &LoadAwsScenario}}) {
    const toml::node* n = root.get(key);
    if (!n) continue;
    if (!n->is_table())
      return ctx.Error(*n, "", key, "must be a table ([" + std::string(key) + "])");
    LASTCALL_RETURN_IF_ERROR(loader(*n->as_table(), ctx));
  }
  return world;
}

}  // namespace

Result<std::unique_ptr<World>> LoadScenarioText(std::string_view text, std::string_view source_name,
                                                const ScenarioOptions& options) {
  const std::string source(source_name);
  try {
    // toml++ 3.3 has undefined behaviour on some inputs toml::parse would otherwise see.
    LASTCALL_RETURN_IF_ERROR(PrevalidateToml(text, source));
    toml::table root = toml::parse(text, source);
    return LoadRoot(root, source, options);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return InvalidArgument(source + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                           ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Internal(source + ": " + e.what());
  }
}

namespace {

// Reads a scenario file without ever blocking on it (common/files.h: opened non-blocking, only
// a regular file, never more than kMaxScenarioBody bytes). A scenario path names a file the
// operator chose, so a symlink is followed.
Result<std::string> ReadScenarioFile(const std::string& path) {
  if (path.find('\0') != std::string::npos) {
    return InvalidArgument("scenario path contains a NUL byte");
  }
  Result<std::string> text =
      ReadFileBounded(path, kMaxScenarioBody, ReadOptions{.follow_symlinks = true});
  if (text.ok() || text.status().code() != StatusCode::kDataLoss) return text;
  return InvalidArgument(text.status().message() +
                         "; a scenario must be a regular file of at most " +
                         std::to_string(kMaxScenarioBody) + " bytes");
}

}  // namespace

Result<std::unique_ptr<World>> LoadScenarioFile(const std::string& path,
                                                const ScenarioOptions& options) {
  Result<std::string> text = ReadScenarioFile(path);
  if (!text.ok()) return text.status();
  return LoadScenarioText(*text, path, options);
}

}  // namespace lastcall::mock
