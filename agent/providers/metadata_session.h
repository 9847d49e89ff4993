// MetadataSession and SessionToken: the request plumbing the metadata providers share.
//
// AWS and Alibaba differ in paths, token headers and token policy (IMDSv1 fallback against
// hardened mode), but not in how a batch of requests goes out: every request carries the poll's
// request timeout; the first timeout or failed connection of a batch (one Poll or one
// FetchIdentity) makes the rest of that batch fail at once, so a hanging endpoint costs about
// one request timeout per poll, not one per monitor; and the Date header of the last answer is
// kept for the effective clock. Tokens of both clouds live the same way too: kept until a tenth
// of their lifetime (at most 5 minutes) before they expire, by monotonic time.
//
// Thread-safety: not thread-safe; owned by one provider, used from the poller thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/providers/http_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

class MetadataSession {
 public:
  MetadataSession(std::string endpoint, Duration request_timeout, std::unique_ptr<HttpClient> http);

  // Starts a batch: forgets the previous batch's unreachable endpoint and Date header.
  void BeginBatch();

  // Sends `request` with the request timeout, unless an earlier request of this batch found the
  // endpoint unreachable (then an Unavailable "skipped: ..." error at once).
  Result<HttpResponse> Send(HttpRequest request);

  // The endpoint joined with `path` ("/latest/api/token").
  std::string Url(std::string_view path) const { return JoinUrl(endpoint_, path); }
  const std::string& endpoint() const { return endpoint_; }

  // From the Date header of this batch's last answer that had a valid one.
  std::optional<WallTime> server_date() const { return server_date_; }

 private:
  std::string endpoint_;
  Duration request_timeout_;
  std::unique_ptr<HttpClient> http_;
  std::optional<Status> unreachable_;
  std::optional<WallTime> server_date_;
};

class SessionToken {
 public:
  // Keeps `value` for `lifetime` from `now`. It is due for refresh a tenth of the lifetime (at
  // most 5 minutes) before it expires, so it never expires between our check and the server's.
  void Store(std::string value, Duration lifetime, MonoTime now);
  void Clear() { value_.clear(); }

  bool empty() const { return value_.empty(); }
  const std::string& value() const { return value_; }
  // Held and not yet due for refresh.
  bool Fresh(MonoTime now) const { return !value_.empty() && now < refresh_at_; }
  // Held and not yet expired: still good when a refresh fails.
  bool Usable(MonoTime now) const { return !value_.empty() && now < expires_at_; }

 private:
  std::string value_;
  MonoTime refresh_at_{};
  MonoTime expires_at_{};
};

// A metadata answer read as "value or none": 200 -> the body, 404 -> nullopt, and any other
// status or failure -> an error prefixed with `path` (the URL `url` named for HTTP errors).
Result<std::optional<std::string>> OptionalBody(Result<HttpResponse> response,
                                                std::string_view path, std::string_view url);

// An identity value: the trimmed body of `answer`. A 404 or an empty answer is an error naming
// `path`; `out` is only written on success.
Status RequiredValue(const Result<std::optional<std::string>>& answer, std::string_view path,
                     std::string* out);

}  // namespace lastcall
