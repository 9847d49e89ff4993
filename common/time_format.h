// Time formats that the clouds put on the wire, and the duration syntax of lastcall's config.
//
//   RFC 3339 (UTC)       2017-09-18T08:22:00Z          spot/instance-action, termination-time
//   AWS event time       21 Jan 2019 09:00:43 GMT      events/maintenance/scheduled (day not
//   padded) HTTP date            Mon, 07 Apr 2026 22:26:58 GMT the Date header (RFC 9110
//   IMF-fixdate) Duration             100ms, 2s, 5m, 1h30m, 6h      config files and CLI flags
//
// Parsers are strict about the shape and tolerant only where the clouds are known to vary
// (fractional seconds and numeric offsets in RFC 3339, padded days in AWS event times).
//
// Range: WallTime counts nanoseconds in 64 bits (1677-09-21 to 2262-04-11). Parsers accept the
// whole years 1678-2261 and refuse any other year with StatusCode::kOutOfRange and a message
// naming the year, before any arithmetic that could wrap. Callers that must tell "absurd" from
// "malformed" (a notice's deadline in 2300 is no usable deadline, not a past one) check the code.
// Every Format* output of a time in range parses back to the same time (to the second).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

// The years a WallTime can hold whole; the first and last representable instants of them.
inline constexpr int kMinYear = 1678;
inline constexpr int kMaxYear = 2261;
inline constexpr WallTime kMinWallTime{
    std::chrono::sys_days{std::chrono::year(kMinYear) / std::chrono::January / 1}};
inline constexpr WallTime kMaxWallTime{
    std::chrono::sys_days{std::chrono::year(kMaxYear) / std::chrono::December / 31} +
    std::chrono::hours(23) + std::chrono::minutes(59) + std::chrono::seconds(59)};

// The longest duration ParseDuration accepts: 100 years, far beyond any timeout or interval,
// and far below the 292 years a nanosecond WallTime can be moved by without overflow.
inline constexpr Duration kMaxDuration{36'500LL * 86'400'000};

// The kOutOfRange error every parser returns for a time in `year`.
Status OutOfRangeYear(long long year, std::string_view what, std::string_view input);

std::string FormatRfc3339(WallTime t);              // second precision, always 'Z'
Result<WallTime> ParseRfc3339(std::string_view s);  // offsets and fractions accepted

std::string FormatAwsEventTime(WallTime t);
Result<WallTime> ParseAwsEventTime(std::string_view s);

std::string FormatHttpDate(WallTime t);
Result<WallTime> ParseHttpDate(std::string_view s);

// "2s", "100ms", "1h30m", "0s". A bare integer is rejected: units must be explicit. A sum longer
// than kMaxDuration is rejected (never wraps).
Result<Duration> ParseDuration(std::string_view s);
std::string FormatDuration(Duration d);  // the shortest exact form: "1h30m", "250ms"

// Seconds since the Unix epoch (whole seconds, rounded toward negative infinity).
long long ToUnixSeconds(WallTime t);
WallTime FromUnixSeconds(long long s);

// Milliseconds since the Unix epoch, as state records store times. FromUnixMillis refuses a
// value outside kMinWallTime..kMaxWallTime (kOutOfRange) instead of overflowing.
long long ToUnixMillis(WallTime t);
Result<WallTime> FromUnixMillis(long long ms);

}  // namespace lastcall
