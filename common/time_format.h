// Time formats that the clouds put on the wire, and the duration syntax of lastcall's config.
//
//   RFC 3339 (UTC)       2017-09-18T08:22:00Z          spot/instance-action, termination-time
//   AWS event time       21 Jan 2019 09:00:43 GMT      events/maintenance/scheduled (day not padded)
//   HTTP date            Mon, 07 Apr 2026 22:26:58 GMT the Date header (RFC 9110 IMF-fixdate)
//   Duration             100ms, 2s, 5m, 1h30m, 6h      config files and CLI flags
//
// Parsers are strict about the shape and tolerant only where the clouds are known to vary
// (fractional seconds and numeric offsets in RFC 3339, padded days in AWS event times).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

std::string FormatRfc3339(WallTime t);             // second precision, always 'Z'
Result<WallTime> ParseRfc3339(std::string_view s);  // offsets and fractions accepted

std::string FormatAwsEventTime(WallTime t);
Result<WallTime> ParseAwsEventTime(std::string_view s);

std::string FormatHttpDate(WallTime t);
Result<WallTime> ParseHttpDate(std::string_view s);

// "2s", "100ms", "1h30m", "0s". A bare integer is rejected: units must be explicit.
Result<Duration> ParseDuration(std::string_view s);
std::string FormatDuration(Duration d);  // the shortest exact form: "1h30m", "250ms"

// Seconds since the Unix epoch (whole seconds, rounded toward negative infinity).
long long ToUnixSeconds(WallTime t);
WallTime FromUnixSeconds(long long s);

}  // namespace lastcall
