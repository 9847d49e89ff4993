#include "mockmeta/imds/fault_table.h"

#include <algorithm>
#include <array>
#include <utility>

namespace lastcall::mock {
namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 7> kKindNames = {{
    {FaultKind::kErrorStatus, "error"},
    {FaultKind::kLatency, "latency"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kMalformedBody, "malformed"},
    {FaultKind::kExpireTokens, "expire-tokens"},
    {FaultKind::kFlap, "flap"},
    {FaultKind::kMovingNotice, "moving-notice"},
}};

constexpr Duration kMaxLatency = std::chrono::seconds(60);

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<FaultKind> ParseFaultKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::optional<Glob> Glob::Compile(std::string_view pattern) {
  Glob g;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*' && i > 0 && pattern[i - 1] == '*') continue;  // "**" is "*"
    if (g.size_ >= kMaxFaultPathLength) return std::nullopt;
    const size_t j = g.size_++;
    if (c == '*') {
      g.star_.set(j);
    } else if (c == '?') {
      g.any_char_.set(j + 1);
    } else {
      int16_t& index = g.literal_index_[static_cast<unsigned char>(c)];
      if (index == 0) {
        g.literal_.emplace_back();
        index = static_cast<int16_t>(g.literal_.size());
      }
      g.literal_[static_cast<size_t>(index - 1)].set(j + 1);
    }
  }
  return g;
}

bool Glob::Match(std::string_view text) const {
  // A '*' also matches nothing: wherever state j is live and element j is '*', j+1 is live too.
  // Runs of stars were merged, so one closure step is enough.
  auto close = [this](States s) { return s | ((s & star_) << 1); };
  States live = close(States().set(0));
  for (const char c : text) {
    States moved = any_char_;
    if (int16_t index = literal_index_[static_cast<unsigned char>(c)]; index != 0) {
      moved |= literal_[static_cast<size_t>(index - 1)];
    }
    // Advance past a matching element, or stay on a '*' that eats this byte.
    live = close(((live << 1) & moved) | (live & star_));
    if (live.none()) return false;
  }
  return live.test(size_);
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  std::optional<Glob> glob = Glob::Compile(pattern);
  return glob && glob->Match(text);
}

std::optional<FaultRuleProblem> CheckFaultRule(const FaultRule& rule) {
  if (rule.instance.empty()) return FaultRuleProblem{"instance", "empty (use \"*\" for all)"};
  if (rule.path.empty()) return FaultRuleProblem{"path", "empty (use \"*\" for all)"};
  if (rule.path.size() > kMaxFaultPathLength) {
    return FaultRuleProblem{"path", std::to_string(rule.path.size()) +
                                        " characters; the limit is " +
                                        std::to_string(kMaxFaultPathLength)};
  }
  if (rule.instance.size() > kMaxFaultPathLength) {
    return FaultRuleProblem{"instance",
                            "longer than " + std::to_string(kMaxFaultPathLength) + " characters"};
  }
  if (rule.path.front() != '/' && rule.path.front() != '*') {
    return FaultRuleProblem{"path", "\"" + rule.path + "\" must start with '/' or '*'"};
  }
  if (!(rule.probability >= 0.0 && rule.probability <= 1.0)) {
    return FaultRuleProblem{"probability", std::to_string(rule.probability) + " is not in 0..1"};
  }
  if (rule.count && *rule.count == 0) {
    return FaultRuleProblem{"count", "0 would never fire (omit it for no limit)"};
  }
  switch (rule.kind) {
    case FaultKind::kErrorStatus:
      if (rule.status < 400 || rule.status > 599) {
        return FaultRuleProblem{"status",
                                std::to_string(rule.status) + " is not an error status (400..599)"};
      }
      break;
    case FaultKind::kLatency:
      if (rule.latency <= Duration::zero() || rule.latency > kMaxLatency) {
        return FaultRuleProblem{"latency",
                                std::to_string(rule.latency.count()) + "ms is not in 1ms..60s"};
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

Status ValidateFaultRule(const FaultRule& rule) {
  if (std::optional<FaultRuleProblem> p = CheckFaultRule(rule)) {
    return InvalidArgument("fault." + p->field + ": " + p->message);
  }
  return Status::Ok();
}

FaultTable::FaultTable(uint64_t seed) : rng_(seed) {}

Result<FaultTable::Id> FaultTable::Add(FaultRule rule) {
  LASTCALL_RETURN_IF_ERROR(ValidateFaultRule(rule));
  std::optional<Glob> glob = Glob::Compile(rule.path);
  if (!glob) return InvalidArgument("fault.path: too long");  // ValidateFaultRule caught it
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxFaultRules) {
    return ResourceExhausted("faults: the table already holds " + std::to_string(kMaxFaultRules) +
                             " rules (the limit); delete some first");
  }
  Id id = next_id_++;
  entries_.push_back(Entry{id, std::move(rule)});
  globs_.push_back(std::make_shared<const Glob>(std::move(*glob)));
  return id;
}

bool FaultTable::Remove(Id id) {
  std::lock_guard lock(mu_);
  return EraseIf([&](const Entry& e) { return e.id == id; }) > 0;
}

size_t FaultTable::RemoveForInstance(std::string_view instance) {
  std::lock_guard lock(mu_);
  return EraseIf([&](const Entry& e) { return e.rule.instance == instance; });
}

void FaultTable::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  globs_.clear();
}

std::vector<FaultTable::Entry> FaultTable::List() const {
  std::lock_guard lock(mu_);
  return entries_;
}

FaultDecision FaultTable::Decide(std::string_view instance_id, std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  FaultDecision d;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    const FaultRule& r = e.rule;
    if (r.instance != "*" && r.instance != instance_id) continue;
    if (!globs_[i]->Match(path)) continue;
    ++e.matched;
    // Only probabilistic rules draw, so adding a count-only rule does not change which
    // requests a seeded probabilistic rule hits.
    if (r.probability < 1.0) {
      double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      if (roll >= r.probability) continue;
    }
    ++e.fired;
    switch (r.kind) {
      case FaultKind::kErrorStatus:
        if (!d.status) d.status = r.status;
        break;
      case FaultKind::kLatency:
        d.latency += r.latency;
        break;
      case FaultKind::kDrop:
        d.drop = true;
        break;
      case FaultKind::kMalformedBody:
        d.malformed = true;
        break;
      case FaultKind::kExpireTokens:
        d.expire_tokens = true;
        break;
      case FaultKind::kFlap:
        // Firings 1, 3, 5, ... answer normally; 2, 4, 6, ... are the "gone" phase.
        if (e.fired % 2 == 0) d.flap_off = true;
        break;
      case FaultKind::kMovingNotice:
        d.moving_notice = true;
        break;
    }
  }
  EraseIf([](const Entry& e) { return e.rule.count && e.fired >= *e.rule.count; });
  return d;
}

}  // namespace lastcall::mock
