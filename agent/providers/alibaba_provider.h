// AlibabaProvider: Alibaba Cloud ECS instance metadata turned into Notices (docs/mockmeta-imds.md
// shows the items).
//
// One monitor: instance/spot/termination-time (plain RFC 3339; 404 = none) -> kRelease,
// action "release", deadline = that time.
//
// Hardened mode (the ECS counterpart of IMDSv2), per AlibabaOptions::token:
//   kOff       never fetch a token; a 403 is an error.
//   kRequired  always send a token (PUT /latest/api/token first); no token, no request.
//   kAuto      try the PUT once at start and again after an error; use tokens if it works,
//              plain GETs otherwise. A 403 to a plain GET means the instance now requires
//              hardened mode: switch to tokens and retry once.
// In token mode a 401 (unknown or expired token) fetches a new token and retries once. Tokens
// are refreshed shortly before they expire, by the Clock's monotonic time.
//
// Thread-safety: not thread-safe; used from the poller thread only (see provider.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/base/config.h"
#include "agent/base/provider.h"
#include "agent/providers/http_client.h"
#include "agent/providers/metadata_session.h"
#include "common/clock.h"

namespace lastcall {

class AlibabaProvider final : public Provider {
 public:
  // `clock` must outlive the provider. Requests use poll.request_timeout.
  AlibabaProvider(AlibabaOptions options, const PollOptions& poll, std::unique_ptr<HttpClient> http,
                  const Clock& clock);

  std::string_view name() const override { return "alibaba"; }
  Result<Identity> FetchIdentity() override;
  PollResult Poll() override;
  std::string Describe() const override;

  // Whether requests currently carry a hardened-mode token.
  bool using_token() const { return use_token_; }

 private:
  Result<HttpResponse> Get(std::string_view path);
  Result<std::optional<std::string>> GetOptional(std::string_view path);
  Result<std::string> Token(bool force_refresh);
  Result<std::string> FetchToken();
  Result<HttpResponse> SendGet(const std::string& url, const std::string& token);
  std::string MetadataUrl(std::string_view path) const;
  // Starts a Poll / FetchIdentity (see MetadataSession).
  void BeginBatch();

  AlibabaOptions options_;
  MetadataSession session_;
  const Clock& clock_;

  bool use_token_ = false;
  bool probe_pending_ = true;  // kAuto: try the token PUT before the next request
  SessionToken token_;
  // Why the token could not be had in this Poll / FetchIdentity (kRequired): later requests
  // of the same batch fail at once instead of each waiting for another PUT.
  std::optional<Status> batch_token_error_;
};

}  // namespace lastcall
