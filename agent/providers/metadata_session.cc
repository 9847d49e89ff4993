#include "agent/providers/metadata_session.h"

#include <algorithm>
#include <utility>

#include "common/time_format.h"

namespace lastcall {

MetadataSession::MetadataSession(std::string endpoint, Duration request_timeout,
                                 std::unique_ptr<HttpClient> http)
    : endpoint_(std::move(endpoint)), request_timeout_(request_timeout), http_(std::move(http)) {}

void MetadataSession::BeginBatch() {
  unreachable_.reset();
  server_date_.reset();
}

Result<HttpResponse> MetadataSession::Send(HttpRequest request) {
  // One timeout or failed connection is enough to know the endpoint is down for this batch;
  // trying every other path too would make a poll cost several request timeouts.
  if (unreachable_) {
    return Unavailable("skipped: endpoint unreachable (" + unreachable_->message() + ")");
  }
  request.timeout = request_timeout_;
  request.connect_timeout = request_timeout_;
  auto r = http_->Send(request);
  if (!r.ok()) {
    StatusCode code = r.status().code();
    if (code == StatusCode::kTimeout || code == StatusCode::kUnavailable) unreachable_ = r.status();
    return r;
  }
  if (auto date = r->Header("Date")) {
    if (auto t = ParseHttpDate(*date); t.ok()) server_date_ = *t;
  }
  return r;
}

void SessionToken::Store(std::string value, Duration lifetime, MonoTime now) {
  const Duration margin = std::min<Duration>(lifetime / 10, std::chrono::minutes(5));
  value_ = std::move(value);
  expires_at_ = now + lifetime;
  refresh_at_ = expires_at_ - margin;
}

Result<std::optional<std::string>> OptionalBody(Result<HttpResponse> response,
                                                std::string_view path, std::string_view url) {
  if (!response.ok()) return response.status().WithContext(path);
  if (response->status == 404) return std::optional<std::string>();
  if (response->status != 200) {
    return HttpStatusError(response->status, "GET " + std::string(url)).WithContext(path);
  }
  return std::optional<std::string>(std::move(response->body));
}

Status RequiredValue(const Result<std::optional<std::string>>& answer, std::string_view path,
                     std::string* out) {
  if (!answer.ok()) return answer.status();
  if (!answer->has_value()) return NotFound(std::string(path) + ": HTTP 404");
  std::string_view value = TrimWhitespace(**answer);
  if (value.empty()) return DataLoss(std::string(path) + ": empty answer");
  *out = std::string(value);
  return Status::Ok();
}

}  // namespace lastcall
