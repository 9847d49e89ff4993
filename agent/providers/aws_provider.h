// AwsProvider: EC2 instance metadata (IMDS) turned into Notices (docs/mockmeta-imds.md shows the
// items).
//
// Session tokens (IMDSv2): a token is fetched with PUT /latest/api/token, reused until shortly
// before it expires (by the Clock's monotonic time, so a wall-clock step changes nothing),
// refreshed then, and fetched anew once when a GET answers 401. A token answer without the TTL
// header is accepted (some IMDS builds omit it); the requested TTL is assumed. Tokenless GETs
// (IMDSv1) are used only when AwsOptions::allow_imdsv1 is set and the token PUT fails; the
// token is then retried at most once a minute.
//
// Monitors (each switchable in AwsOptions), under /latest/meta-data/:
//   spot/instance-action                -> kInterruption, deadline = time
//   spot/termination-time (legacy)      -> kInterruption "terminate"; the same time as
//                                          instance-action is the same notice (one id)
//   events/recommendations/rebalance    -> kRebalance, no deadline
//   events/maintenance/scheduled        -> kMaintenance per event, deadline = NotBefore
//   autoscaling/target-lifecycle-state  -> kLifecycle when "Terminated", no deadline
// Notices carry no instance id (the key is provider, kind and event id; see notice.h): Poll reads
// no identity path, so a bad identity answer cannot touch a notice. FetchIdentity validates what
// it reads (ValidateIdentity) and fails on anything else.
// 404 means "none" everywhere (and `[]` for scheduled events). Any other failure becomes one
// Status in PollResult::errors for that monitor; the other monitors still report.
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

class AwsProvider final : public Provider {
 public:
  // `clock` must outlive the provider. Requests use poll.request_timeout as their total and
  // connect timeout.
  AwsProvider(AwsOptions options, const PollOptions& poll, std::unique_ptr<HttpClient> http,
              const Clock& clock);

  std::string_view name() const override { return "aws"; }
  Result<Identity> FetchIdentity() override;
  PollResult Poll() override;
  std::string Describe() const override;

  // For tests and `lastcalld status`: whether the last request went without a token.
  bool using_imdsv1() const { return imdsv1_; }

 private:
  // GET /latest/meta-data/<path> with the token dance. Any HTTP status is returned as is,
  // except that a 401 is retried once with a fresh token.
  Result<HttpResponse> Get(std::string_view path);
  // 200 -> body, 404 -> nullopt, anything else -> a Status naming the path.
  Result<std::optional<std::string>> GetOptional(std::string_view path);
  // The token to send, "" for an IMDSv1 request, or why there is none.
  Result<std::string> Token(bool force_refresh);
  Result<std::string> FetchToken();
  std::string MetadataUrl(std::string_view path) const;
  // Starts a Poll / FetchIdentity (see MetadataSession).
  void BeginBatch();

  AwsOptions options_;
  MetadataSession session_;
  const Clock& clock_;

  SessionToken token_;
  bool imdsv1_ = false;
  MonoTime token_retry_at_{};
  // Why the token could not be had in this Poll / FetchIdentity: the other paths of the same
  // batch fail at once instead of each waiting for another PUT to time out.
  std::optional<Status> batch_token_error_;
};

}  // namespace lastcall
