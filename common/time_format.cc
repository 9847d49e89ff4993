#include "common/time_format.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <limits>

#include "common/escape.h"

namespace lastcall {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

// A small cursor over the input; each Take* consumes on success only.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool PeekDigit() const {
    return pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]));
  }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool TakeAnyOf(std::string_view set) {
    if (pos_ < s_.size() && set.find(s_[pos_]) != std::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Exactly `min..max` digits.
  bool TakeNumber(int min, int max, int* out) {
    int n = 0, v = 0;
    while (n < max && PeekDigit()) {
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (n < min) return false;
    *out = v;
    return true;
  }
  bool TakeWord(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  template <size_t N>
  bool TakeName(const std::array<std::string_view, N>& names, int* index) {
    for (size_t i = 0; i < N; ++i) {
      if (TakeWord(names[i])) {
        *index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

Result<WallTime> Compose(int y, int mo, int d, int h, int mi, int s, std::string_view what,
                         std::string_view input) {
  year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                     std::chrono::day(static_cast<unsigned>(d))};
  // Leap second 60 is folded into the next second; clouds do not emit it, but be lenient.
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) {
    return InvalidArgument("not a valid " + std::string(what) + ": " + Quote(input));
  }
  // Checked before the conversion: WallTime counts nanoseconds in 64 bits, and a year outside
  // the range would wrap around (2300 became 1715).
  if (y < kMinYear || y > kMaxYear) return OutOfRangeYear(y, what, input);
  return WallTime(sys_days(ymd)) + hours(h) + minutes(mi) + seconds(s);
}

Status BadShape(std::string_view what, std::string_view example, std::string_view input) {
  return InvalidArgument("expected " + std::string(what) + " like \"" + std::string(example) +
                         "\", got " + Quote(input));
}

struct Civil {
  int year, month, day, hour, minute, second, weekday;
};

Civil ToCivil(WallTime t) {
  auto secs = std::chrono::floor<seconds>(t);
  auto day = std::chrono::floor<days>(secs);
  year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(secs - day);
  std::chrono::weekday wd(day);
  return {int(ymd.year()),
          static_cast<int>(unsigned(ymd.month())),
          static_cast<int>(unsigned(ymd.day())),
          static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count()),
          static_cast<int>(hms.seconds().count()),
          static_cast<int>(wd.c_encoding())};
}

}  // namespace

Status OutOfRangeYear(long long year, std::string_view what, std::string_view input) {
  return Status(StatusCode::kOutOfRange,
                std::string(what) + " " + Quote(input) + " is in the year " + std::to_string(year) +
                    ", outside the range lastcall can represent (" + std::to_string(kMinYear) +
                    "-" + std::to_string(kMaxYear) + ")");
}

std::string FormatRfc3339(WallTime t) {
  Civil c = ToCivil(t);
  if (c.year < 0 || c.year > 9999) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour,
                  c.minute, c.second);
    return buf;
  }
  // Written digit by digit: mockmeta formats a notice time for every poll it answers, and
  // snprintf was a visible share of that (bench/RESULTS.md, "IMDS throughput").
  std::string out = "0000-00-00T00:00:00Z";
  auto put = [&out](size_t end, int value) {
    for (size_t i = end; value > 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
  };
  put(3, c.year);
  put(6, c.month);
  put(9, c.day);
  put(12, c.hour);
  put(15, c.minute);
  put(18, c.second);
  return out;
}

Result<WallTime> ParseRfc3339(std::string_view s) {
  static constexpr std::string_view kWhat = "an RFC 3339 time";
  static constexpr std::string_view kExample = "2017-09-18T08:22:00Z";
  Scanner in(s);
  int y, mo, d, h, mi, sec;
  if (!(in.TakeNumber(4, 4, &y) && in.Take('-') && in.TakeNumber(2, 2, &mo) && in.Take('-') &&
        in.TakeNumber(2, 2, &d) && in.TakeAnyOf("Tt ") && in.TakeNumber(2, 2, &h) && in.Take(':') &&
        in.TakeNumber(2, 2, &mi) && in.Take(':') && in.TakeNumber(2, 2, &sec))) {
    return BadShape(kWhat, kExample, s);
  }
  Duration frac{0};
  if (in.Take('.')) {
    // Keep milliseconds; ignore finer digits.
    int digits = 0, ms = 0;
    while (in.PeekDigit()) {
      int v;
      in.TakeNumber(1, 1, &v);
      if (digits < 3) ms = ms * 10 + v;
      ++digits;
    }
    if (digits == 0) return BadShape(kWhat, kExample, s);
    for (int i = digits; i < 3; ++i) ms *= 10;
    frac = Duration(ms);
  }
  minutes offset{0};
  if (in.TakeAnyOf("Zz")) {
  } else if (in.Peek('+') || in.Peek('-')) {
    bool negative = in.Peek('-');
    in.TakeAnyOf("+-");
    int oh, om;
    if (!(in.TakeNumber(2, 2, &oh) && in.Take(':') && in.TakeNumber(2, 2, &om)) || oh > 23 ||
        om > 59) {
      return BadShape(kWhat, kExample, s);
    }
    offset = minutes(oh * 60 + om) * (negative ? -1 : 1);
  } else {
    return BadShape(kWhat, kExample, s);
  }
  if (!in.done()) return BadShape(kWhat, kExample, s);
  auto base = Compose(y, mo, d, h, mi, sec, kWhat, s);
  if (!base.ok()) return base.status();
  return *base + frac - offset;
}

std::string FormatAwsEventTime(WallTime t) {
  Civil c = ToCivil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%d %s %04d %02d:%02d:%02d GMT", c.day,
                std::string(kMonths[static_cast<size_t>(c.month - 1)]).c_str(), c.year, c.hour,
                c.minute, c.second);
  return buf;
}

Result<WallTime> ParseAwsEventTime(std::string_view s) {
  static constexpr std::string_view kWhat = "an AWS event time";
  static constexpr std::string_view kExample = "21 Jan 2019 09:00:43 GMT";
  Scanner in(s);
  int d, mo, y, h, mi, sec;
  if (!(in.TakeNumber(1, 2, &d) && in.Take(' ') && in.TakeName(kMonths, &mo) && in.Take(' ') &&
        in.TakeNumber(4, 4, &y) && in.Take(' ') && in.TakeNumber(2, 2, &h) && in.Take(':') &&
        in.TakeNumber(2, 2, &mi) && in.Take(':') && in.TakeNumber(2, 2, &sec) &&
        in.TakeWord(" GMT") && in.done())) {
    return BadShape(kWhat, kExample, s);
  }
  return Compose(y, mo + 1, d, h, mi, sec, kWhat, s);
}

std::string FormatHttpDate(WallTime t) {
  Civil c = ToCivil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                std::string(kWeekdays[static_cast<size_t>(c.weekday)]).c_str(), c.day,
                std::string(kMonths[static_cast<size_t>(c.month - 1)]).c_str(), c.year, c.hour,
                c.minute, c.second);
  return buf;
}

Result<WallTime> ParseHttpDate(std::string_view s) {
  static constexpr std::string_view kWhat = "an HTTP date";
  static constexpr std::string_view kExample = "Mon, 07 Apr 2026 22:26:58 GMT";
  Scanner in(s);
  int wd, d, mo, y, h, mi, sec;
  if (!(in.TakeName(kWeekdays, &wd) && in.TakeWord(", ") && in.TakeNumber(1, 2, &d) &&
        in.Take(' ') && in.TakeName(kMonths, &mo) && in.Take(' ') && in.TakeNumber(4, 4, &y) &&
        in.Take(' ') && in.TakeNumber(2, 2, &h) && in.Take(':') && in.TakeNumber(2, 2, &mi) &&
        in.Take(':') && in.TakeNumber(2, 2, &sec) && in.TakeWord(" GMT") && in.done())) {
    return BadShape(kWhat, kExample, s);
  }
  return Compose(y, mo + 1, d, h, mi, sec, kWhat, s);
}

Result<Duration> ParseDuration(std::string_view s) {
  struct Unit {
    std::string_view name;
    long long ms;
  };
  // Longest suffix first so "ms" is not read as "m" followed by garbage.
  static constexpr Unit kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  auto bad = [&] {
    return InvalidArgument("expected a duration like \"2s\", \"100ms\" or \"1h30m\", got " +
                           Quote(s));
  };
  if (s.empty()) return bad();
  long long total = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return bad();
    long long n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i] - '0');
      if (n > 1'000'000'000) return bad();
      ++i;
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(i, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return bad();
    i += unit->name.size();
    total += n * unit->ms;
    // Checked on every term: enough terms of 10^9 days would overflow the sum (a crafted
    // sum once printed as "2s").
    if (total > kMaxDuration.count()) {
      return InvalidArgument("duration " + Quote(s) + " is longer than the longest allowed, " +
                             FormatDuration(kMaxDuration));
    }
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    const char* name;
    long long ms;
  };
  static constexpr Unit kUnits[] = {{"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

long long ToUnixSeconds(WallTime t) {
  return std::chrono::floor<seconds>(t.time_since_epoch()).count();
}

WallTime FromUnixSeconds(long long s) { return WallTime(seconds(s)); }

long long ToUnixMillis(WallTime t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Result<WallTime> FromUnixMillis(long long ms) {
  // The range check is on milliseconds, before the multiplication to nanoseconds.
  static const long long kMin = ToUnixMillis(kMinWallTime);
  static const long long kMax = ToUnixMillis(kMaxWallTime);
  if (ms < kMin || ms > kMax) {
    return Status(StatusCode::kOutOfRange,
                  "milliseconds since the epoch " + std::to_string(ms) +
                      " are outside the range lastcall can represent (years " +
                      std::to_string(kMinYear) + "-" + std::to_string(kMaxYear) + ")");
  }
  return WallTime(std::chrono::milliseconds(ms));
}

}  // namespace lastcall
