// FaultTable: the faults an operator or a test injects into the metadata service, and the
// pure decision of which of them hit a given request.
//
// A rule names an instance (or "*"), a path glob, a kind, and how often it fires: for the next
// N matching requests (`count`), with a seeded probability, or both (each matching request
// fires with `probability` until `count` firings are used up). Several rules can hit one
// request; their effects combine (a latency rule and an error rule give a slow error).
// The table only decides; ImdsRouter applies the decision to the response, and the HTTP session
// applies the response's delay and drop directions.
//
// Paths are the instance-relative request path with trailing slashes removed
// ("/latest/meta-data/spot/instance-action"). Globs: '*' matches any run of characters,
// including '/', '?' matches one character; everything else matches itself. So a prefix is
// written "/latest/meta-data/spot/*". Matching is a bit-parallel automaton (Glob), linear in
// the path whatever the pattern: a pattern is at most kMaxFaultPathLength bytes and a table holds
// at most kMaxFaultRules rules, so one request costs a bounded, small amount of matching (a
// backtracking matcher took seconds for 200 rules of "*a*a*...").
//
// Thread-safety: all methods may be called from any thread (one mutex). Decisions are
// reproducible for a given seed and sequence of requests.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace lastcall::mock {

enum class FaultKind {
  kErrorStatus,    // answer `status` (500, 503, 429, ...) instead of the real answer
  kLatency,        // answer `latency` later
  kDrop,           // close the connection without answering
  kMalformedBody,  // send the real answer with its body cut in half (truncated JSON)
  kExpireTokens,   // void every token of the instance, then answer normally
  kFlap,           // alternate: real answer, 404, real answer, 404, ...
  kMovingNotice,   // AWS spot/instance-action (and termination-time) say "now + 2 min" on every
                   // request, as amazon-ec2-metadata-mock does in its default mode
};
std::string_view FaultKindName(FaultKind kind);  // "error", "latency", "drop", "malformed",
                                                 // "expire-tokens", "flap", "moving-notice"
std::optional<FaultKind> ParseFaultKind(std::string_view name);

struct FaultRule {
  std::string instance = "*";  // an instance id, or "*" for every instance
  std::string path = "*";      // glob, see above
  FaultKind kind = FaultKind::kErrorStatus;
  int status = 503;               // kErrorStatus: 400..599
  Duration latency{0};            // kLatency: 1ms..60s
  std::optional<uint64_t> count;  // fire at most this many times, then the rule is gone
  double probability = 1.0;       // 0..1, per matching request
};

// What the rules that hit one request ask for. Default: nothing.
struct FaultDecision {
  std::optional<int> status;
  Duration latency{0};
  bool drop = false;
  bool malformed = false;
  bool expire_tokens = false;
  bool flap_off = false;       // this request is a flap's "404" phase
  bool moving_notice = false;  // a pending AWS notice's time is now + 2 min (kMovingNotice)
  bool any() const {
    return status || latency.count() > 0 || drop || malformed || expire_tokens || flap_off ||
           moving_notice;
  }
};

inline constexpr size_t kMaxFaultRules = 100;
inline constexpr size_t kMaxFaultPathLength = 256;

// A compiled glob: state j means "the first j pattern elements matched"; each text byte moves
// every state at once with a few word operations, so matching is O(text) for a pattern of at most
// kMaxFaultPathLength elements (longer patterns are refused by Compile).
class Glob {
 public:
  static std::optional<Glob> Compile(std::string_view pattern);
  bool Match(std::string_view text) const;

 private:
  using States = std::bitset<kMaxFaultPathLength + 1>;
  size_t size_ = 0;                           // pattern elements (runs of '*' count as one)
  States star_;                               // bit j: element j is '*'
  States any_char_;                           // bit j+1: element j is '?'
  std::array<int16_t, 256> literal_index_{};  // byte -> index into literal_ + 1, 0: none
  std::vector<States> literal_;               // bit j+1: element j is that byte
};

// Whether `text` matches `pattern`; false for a pattern longer than kMaxFaultPathLength.
bool GlobMatch(std::string_view pattern, std::string_view text);

class FaultTable {
 public:
  using Id = uint64_t;
  struct Entry {
    Id id = 0;
    FaultRule rule;
    uint64_t fired = 0;    // how many requests it hit so far
    uint64_t matched = 0;  // how many requests matched its instance and path
  };

  explicit FaultTable(uint64_t seed = 1);

  // Checks the rule ("fault.status: 200 is not an error status (400..599)") and adds it;
  // kResourceExhausted when the table already holds kMaxFaultRules rules.
  Result<Id> Add(FaultRule rule);
  bool Remove(Id id);
  // Removes every rule of `instance` ("*" rules are only removed by Clear()).
  size_t RemoveForInstance(std::string_view instance);
  void Clear();
  std::vector<Entry> List() const;

  // Decides for one request and records it (counts, flap phase). Rules whose count is used up
  // are removed.
  FaultDecision Decide(std::string_view instance_id, std::string_view path);

 private:
  // Removes the entries `pred` selects, with their compiled globs; mu_ held.
  template <typename Pred>
  size_t EraseIf(Pred pred) {
    size_t kept = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (pred(entries_[i])) continue;
      if (kept != i) {
        entries_[kept] = std::move(entries_[i]);
        globs_[kept] = std::move(globs_[i]);
      }
      ++kept;
    }
    const size_t removed = entries_.size() - kept;
    entries_.resize(kept);
    globs_.resize(kept);
    return removed;
  }

  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  Id next_id_ = 1;
  std::vector<Entry> entries_;
  std::vector<std::shared_ptr<const Glob>> globs_;  // entries_[i]'s compiled path
};

// What is wrong with a rule: the field at fault ("path", "status", ...) and why.
struct FaultRuleProblem {
  std::string field;
  std::string message;
};
std::optional<FaultRuleProblem> CheckFaultRule(const FaultRule& rule);
// CheckFaultRule as a Status: invalid-argument "fault.<field>: <message>".
Status ValidateFaultRule(const FaultRule& rule);

}  // namespace lastcall::mock
