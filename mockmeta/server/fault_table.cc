#include "mockmeta/server/fault_table.h"

#include <algorithm>
#include <array>
#include <utility>

namespace lastcall::mock {
namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 6> kKindNames = {{
    {FaultKind::kErrorStatus, "error"},
    {FaultKind::kLatency, "latency"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kMalformedBody, "malformed"},
    {FaultKind::kExpireTokens, "expire-tokens"},
    {FaultKind::kFlap, "flap"},
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

// Iterative glob with single-star backtracking: linear in practice, no recursion, so a hostile
// pattern like "*a*a*a*a*b" cannot blow the stack.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Status ValidateFaultRule(const FaultRule& rule) {
  if (rule.instance.empty()) return InvalidArgument("fault.instance: empty (use \"*\" for all)");
  if (rule.path.empty()) return InvalidArgument("fault.path: empty (use \"*\" for all)");
  if (rule.path.front() != '/' && rule.path.front() != '*') {
    return InvalidArgument("fault.path: \"" + rule.path + "\" must start with '/' or '*'");
  }
  if (!(rule.probability >= 0.0 && rule.probability <= 1.0)) {
    return InvalidArgument("fault.probability: " + std::to_string(rule.probability) +
                           " is not in 0..1");
  }
  if (rule.count && *rule.count == 0) {
    return InvalidArgument("fault.count: 0 would never fire (omit it for no limit)");
  }
  switch (rule.kind) {
    case FaultKind::kErrorStatus:
      if (rule.status < 400 || rule.status > 599) {
        return InvalidArgument("fault.status: " + std::to_string(rule.status) +
                               " is not an error status (400..599)");
      }
      break;
    case FaultKind::kLatency:
      if (rule.latency <= Duration::zero() || rule.latency > kMaxLatency) {
        return InvalidArgument("fault.latency: " + std::to_string(rule.latency.count()) +
                               "ms is not in 1ms..60s");
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

FaultTable::FaultTable(uint64_t seed) : rng_(seed) {}

Result<FaultTable::Id> FaultTable::Add(FaultRule rule) {
  LASTCALL_RETURN_IF_ERROR(ValidateFaultRule(rule));
  std::lock_guard lock(mu_);
  Id id = next_id_++;
  entries_.push_back(Entry{id, std::move(rule)});
  return id;
}

bool FaultTable::Remove(Id id) {
  std::lock_guard lock(mu_);
  return std::erase_if(entries_, [&](const Entry& e) { return e.id == id; }) > 0;
}

size_t FaultTable::RemoveForInstance(std::string_view instance) {
  std::lock_guard lock(mu_);
  return std::erase_if(entries_, [&](const Entry& e) { return e.rule.instance == instance; });
}

void FaultTable::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

std::vector<FaultTable::Entry> FaultTable::List() const {
  std::lock_guard lock(mu_);
  return entries_;
}

FaultDecision FaultTable::Decide(std::string_view instance_id, std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  FaultDecision d;
  std::lock_guard lock(mu_);
  for (Entry& e : entries_) {
    const FaultRule& r = e.rule;
    if (r.instance != "*" && r.instance != instance_id) continue;
    if (!GlobMatch(r.path, path)) continue;
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
    }
  }
  std::erase_if(entries_, [](const Entry& e) { return e.rule.count && e.fired >= *e.rule.count; });
  return d;
}

}  // namespace lastcall::mock
