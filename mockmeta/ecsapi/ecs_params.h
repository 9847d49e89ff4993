// EcsParamReader: ECS's parameters read back as typed values from the decoded form
// (form_params.h).
//
// ECS (RPC style, 2014-05-26) sends scalars as strings; lists either as a JSON-array string
// (`InstanceIds='["i-1","i-2"]'`) or flattened as `Name.N` (N from 1, `InstanceId.1`), and
// structures as `Name.N.Member` (`Tag.1.Key`). The first problem becomes the reader's error
// (ECS's code and a message naming the parameter); later reads then return nothing, so an
// action reads everything and checks error() once, before it touches the market.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "mockmeta/ecsapi/ecs_error.h"
#include "mockmeta/http/form_params.h"

namespace lastcall::mock::ecs {

struct EcsTag {
  std::string key;
  std::string value;
};

class EcsParamReader {
 public:
  explicit EcsParamReader(const FormParams& params) : params_(params) {}

  // Absent or empty is "not given" (the SDKs drop unset fields; curl users send "X=").
  std::optional<std::string> String(std::string_view name, bool required = false);
  // A whole number in [min, max]; anything else: InvalidParameter naming it.
  std::optional<long long> Integer(std::string_view name, long long min, long long max,
                                   bool required = false);
  std::optional<bool> Bool(std::string_view name);  // "true" | "false"
  // A non-negative decimal number (a price in USD per hour).
  std::optional<double> Number(std::string_view name, bool required = false);
  // RFC 3339 UTC, seconds optional ("2026-04-07T00:00Z" is ECS's own minute form).
  std::optional<WallTime> Time(std::string_view name);
  // A JSON array of strings in one parameter, at most `max` entries.
  std::vector<std::string> JsonList(std::string_view name, size_t max);
  // name.1, name.2, ... (contiguous from 1), at most `max` entries.
  std::vector<std::string> RepeatList(std::string_view name, size_t max);
  // Tag.N.Key / Tag.N.Value (N from 1 to max); a Key is required for every N given.
  std::vector<EcsTag> Tags(std::string_view prefix, size_t max);

  void Fail(EcsErrorCode code, std::string message);
  bool ok() const { return !error_.has_value(); }
  const MaybeError& error() const { return error_; }

 private:
  const FormParams& params_;
  MaybeError error_;
};

// A printable, bounded excerpt of a client's value for a message.
std::string Quote(std::string_view s);

}  // namespace lastcall::mock::ecs
