// QueryParams and ParamReader: the EC2 Query protocol's parameters, decoded and typed.
//
// QueryParams decodes an application/x-www-form-urlencoded body or a query string (percent
// escapes, '+' for space) into name -> value, refusing malformed escapes, duplicate names and
// more than kMaxParams parameters, with mockmeta's one form decoder (server/form_params.h,
// shared with the ECS face). The SDKs flatten lists as `Name.N` (N from 1) and structures
// as `Name.Member`, so `TagSpecification.2.Tag.1.Key` is one parameter; ParamReader reads them
// back as typed values: strings, integers in a range, booleans, prices, RFC 3339 times, lists,
// filters (`Filter.N.Name` / `Filter.N.Value.M`) and tags. The first problem becomes the reader's
// error (EC2's code and a message naming the parameter); later reads then return nothing, so an
// action reads everything and checks error() once, before it touches the market.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/ec2api/ec2_error.h"
#include "mockmeta/http/form_params.h"

namespace lastcall::mock::ec2 {

class QueryParams {
 public:
  static constexpr size_t kMaxParams = kMaxFormParams;

  // Decodes "a=1&b=x%20y". Appends to `into` (a query string and a form body both count);
  // a name given twice is an error.
  static Status DecodeInto(std::string_view form, QueryParams& into);

  const std::string* Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name) != nullptr; }
  // The N of every `prefix.N` / `prefix.N.<member>` name, ascending; non-numeric N is skipped
  // (ParamReader reports it).
  std::vector<int> Indices(std::string_view prefix) const;
  // Names that start with `prefix.` but whose next part is not a positive number.
  std::optional<std::string> BadIndex(std::string_view prefix) const;
  const FormValues& all() const { return values_; }

 private:
  FormValues values_;
};

struct Filter {
  std::string name;
  std::vector<std::string> values;
};

struct Tag {
  std::string key;
  std::string value;
  bool has_value = true;  // DeleteTags: a key without a value deletes whatever the value is
};

struct TagSpecification {
  std::string resource_type;  // "instance", "spot-instances-request", ...
  std::vector<Tag> tags;
};

class ParamReader {
 public:
  explicit ParamReader(const QueryParams& params) : params_(params) {}

  std::optional<std::string> String(std::string_view name, bool required = false);
  // A whole number in [min, max]; "abc" or out of range: InvalidParameterValue.
  std::optional<long long> Integer(std::string_view name, long long min, long long max,
                                   bool required = false);
  std::optional<bool> Bool(std::string_view name);  // "true" | "false"
  // A price in USD per hour: a non-negative decimal number.
  std::optional<double> Price(std::string_view name);
  std::optional<WallTime> Time(std::string_view name);
  // Values of name.1, name.2, ... (at most `max` of them).
  std::vector<std::string> List(std::string_view name, size_t max = 1000);
  std::vector<Filter> Filters();
  // Tags of `prefix`.N.Key / .Value ("Tag" for CreateTags, "TagSpecification.1.Tag").
  std::vector<Tag> Tags(std::string_view prefix, bool value_required);
  std::vector<TagSpecification> TagSpecifications();
  // MaxResults and NextToken of a describe call (MaxResults in [min, max]).
  std::optional<long long> MaxResults(long long min, long long max);

  void Fail(Ec2ErrorCode code, std::string message);
  bool ok() const { return !error_.has_value(); }
  const MaybeError& error() const { return error_; }

 private:
  const QueryParams& params_;
  MaybeError error_;
};

// EC2's own instance and spot request id formats: "i-" + 8 or 17 hex digits, "sir-" + 8
// lowercase alphanumerics.
bool IsInstanceId(std::string_view s);
bool IsSpotRequestId(std::string_view s);

}  // namespace lastcall::mock::ec2
