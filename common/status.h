// Status and Result: the one error style at lastcall's module boundaries.
//
// A Status is a cheap value: a code plus a message meant for an operator ("what is wrong and
// where"), and optionally a reason: a short machine-readable word that names the error in the
// terms of the protocol that answers it (mockmeta: the cloud's error code, "OperationDenied.
// NoStock"). Code that must choose an answer reads the code and the reason, never the message.
// Result<T> holds either a T or a non-ok Status. Code that talks to a throwing
// library (toml++, nlohmann::json, Boost) catches inside its adapter and returns these.
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace lastcall {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user: config, scenario, API request
  kNotFound,         // the thing asked for does not exist (also HTTP 404 where it means "none")
  kAlreadyExists,
  kFailedPrecondition,  // the request is valid but the current state forbids it
  kPermissionDenied,    // e.g. a world-writable hook, an HTTP 401/403
  kUnavailable,         // transient: connection refused or reset, 5xx, 429
  kTimeout,
  kDataLoss,           // a payload or file that cannot be parsed
  kResourceExhausted,  // out of stock / capacity, limits
  kOutOfRange,         // well-formed but beyond what can be represented (a date in 2300)
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(StatusCode code, std::string message, std::string reason)
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "" when the error carries no reason.
  const std::string& reason() const { return reason_; }

  // "invalid-argument: poll_interval must be at least 100ms"
  std::string ToString() const;

  // Prefixes the message with context, e.g. a file and line: "lastcalld.toml:12:3: ...". The
  // code and the reason stay.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.reason_ == b.reason_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value or an error. Accessing value() of an error is a programming error.
// The error is a Status unless a module's boundary needs a richer one (E): the control API's
// parsers return Result<T, ApiError> (an HTTP status, a code and the field at fault), so that
// one parse style serves both.
template <typename T, typename E = Status>
class [[nodiscard]] Result {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {
    if constexpr (std::is_same_v<E, Status>) {
      assert(!std::get<1>(v_).ok() && "Result built from an ok Status");
    }
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const Status& status() const requires std::is_same_v<E, Status> {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  // The error; only for a Result that is not ok().
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, E> v_;
};

}  // namespace lastcall

// Returns early from a function returning Status or Result<U> when `expr` is not ok.
#define LASTCALL_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::lastcall::Status lastcall_status_ = (expr);        \
    if (!lastcall_status_.ok()) return lastcall_status_; \
  } while (0)
