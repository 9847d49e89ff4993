// FormParams: an application/x-www-form-urlencoded body or a URL query string, decoded.
//
// Only the decoding (strict, unlike the control API's lenient ParseQuery): percent escapes, '+' for
// a space, a name given twice refused (the two values would be ambiguous, and a signature covers
// one of them), at most kMaxParams names. Nothing here knows ECS or any other API: typed reading
// lives with each API face (ecs_params.h for ECS). Kept apart on purpose so that the EC2 face's
// decoder and this one can be folded into one shared decoder.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lastcall::mock {

inline constexpr size_t kMaxFormParams = 10000;
using FormValues = std::map<std::string, std::string, std::less<>>;

// Decodes "a=1&b=x%20y" and adds its names to `into` (a query string and a form body both count
// towards one set). A malformed escape, a name given twice or more than kMaxFormParams names: an
// InvalidArgument status saying which; `into` may then hold the names decoded before it.
Status DecodeForm(std::string_view form, FormValues& into);

class FormParams {
 public:
  static constexpr size_t kMaxParams = kMaxFormParams;

  // DecodeForm into these parameters.
  static Status DecodeInto(std::string_view form, FormParams& into) {
    return DecodeForm(form, into.values_);
  }

  const std::string* Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name) != nullptr; }
  const FormValues& all() const { return values_; }
  void Set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }

 private:
  FormValues values_;
};

}  // namespace lastcall::mock
