// Fuzzes the wire time formats and the duration syntax (common/time_format.h): RFC 3339 (the
// metadata bodies), AWS event times (scheduled events), HTTP dates (the Date header the agent
// reads its clock skew from) and durations (config files, CLI flags, the control API).
//
// Oracles, beyond no crash / sanitizer report (date arithmetic overflows are UBSan findings):
//  - what a parser accepts formats back to text that parses to the same value (second precision
//    for the time formats), and a canonical RFC 3339 input ("2017-09-18T08:22:00Z") formats
//    back to itself, so a year that does not fit is refused, never moved to another century;
//  - a duration parses to a non-negative value, and FormatDuration's output parses back to it;
//  - the first 8 bytes, read as seconds within ±285 years of 1970 (what a 64-bit nanosecond
//    clock holds), format to each time format and parse back to the same second: the property
//    "every Format* output parses back to the same value".
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/time_format.h"
#include "fuzz/fuzz_check.h"

namespace lastcall {
namespace {

using std::chrono::floor;
using std::chrono::seconds;

WallTime Floor(WallTime t) { return WallTime(floor<seconds>(t.time_since_epoch())); }

void CheckTimeRoundTrip(WallTime t, const char* what) {
  std::string rfc = FormatRfc3339(t);
  auto r = ParseRfc3339(rfc);
  FUZZ_CHECK(r.ok() && *r == Floor(t), "%s: FormatRfc3339 gave \"%s\", which parses %s", what,
             rfc.c_str(), r.ok() ? "to another time" : "not at all");
  std::string aws = FormatAwsEventTime(t);
  auto a = ParseAwsEventTime(aws);
  FUZZ_CHECK(a.ok() && *a == Floor(t), "%s: FormatAwsEventTime gave \"%s\", which parses %s", what,
             aws.c_str(), a.ok() ? "to another time" : "not at all");
  std::string http = FormatHttpDate(t);
  auto h = ParseHttpDate(http);
  FUZZ_CHECK(h.ok() && *h == Floor(t), "%s: FormatHttpDate gave \"%s\", which parses %s", what,
             http.c_str(), h.ok() ? "to another time" : "not at all");
}

bool IsCanonicalRfc3339(std::string_view s) {
  if (s.size() != 20 || s[19] != 'Z' || s[10] != 'T') return false;
  for (size_t i : {4, 7}) {
    if (s[i] != '-') return false;
  }
  return s[13] == ':' && s[16] == ':';
}

}  // namespace
}  // namespace lastcall

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  const std::string_view s(reinterpret_cast<const char*>(data), size);

  if (auto t = ParseRfc3339(s); t.ok()) {
    CheckTimeRoundTrip(*t, "parsed RFC 3339");
    // Leap second 60 is folded into the next minute, so it does not format back to itself.
    if (IsCanonicalRfc3339(s) && s.substr(17, 2) != "60") {
      FUZZ_CHECK(FormatRfc3339(*t) == s, "\"%.*s\" parses to a time formatted \"%s\"",
                 static_cast<int>(size), s.data(), FormatRfc3339(*t).c_str());
    }
  }
  if (auto t = ParseAwsEventTime(s); t.ok()) CheckTimeRoundTrip(*t, "parsed AWS event time");
  if (auto t = ParseHttpDate(s); t.ok()) CheckTimeRoundTrip(*t, "parsed HTTP date");

  if (auto d = ParseDuration(s); d.ok()) {
    FUZZ_CHECK(d->count() >= 0, "\"%.*s\" parses to a negative duration", static_cast<int>(size),
               s.data());
    std::string text = FormatDuration(*d);
    auto back = ParseDuration(text);
    FUZZ_CHECK(back.ok() && *back == *d, "FormatDuration gave \"%s\", which parses %s",
               text.c_str(), back.ok() ? "to another duration" : "not at all");
  }

  if (size >= 8) {
    int64_t raw;
    std::memcpy(&raw, data, sizeof raw);
    constexpr int64_t kSpan = 9'000'000'000;  // ±285 years: inside the nanosecond clock's range
    const int64_t secs = raw % kSpan;
    CheckTimeRoundTrip(FromUnixSeconds(secs), "FromUnixSeconds");
    FUZZ_CHECK(ToUnixSeconds(FromUnixSeconds(secs)) == secs, "unix seconds %lld",
               static_cast<long long>(secs));
    const int64_t ms = raw % (int64_t{1} << 40);  // ±34 years of milliseconds
    if (ms >= 0) {
      auto back = ParseDuration(FormatDuration(Duration(ms)));
      FUZZ_CHECK(back.ok() && back->count() == ms, "FormatDuration(%lld ms) does not parse back",
                 static_cast<long long>(ms));
    }
  }
  return 0;
}
