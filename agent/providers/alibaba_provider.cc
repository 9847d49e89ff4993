#include "agent/providers/alibaba_provider.h"

#include <algorithm>
#include <utility>

#include "agent/base/identity.h"
#include "agent/base/log.h"
#include "agent/providers/metadata_parse.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kMetaData = "/latest/meta-data/";
constexpr std::string_view kTtlHeader = "X-aliyun-ecs-metadata-token-ttl-seconds";
constexpr std::string_view kTokenHeader = "X-aliyun-ecs-metadata-token";
constexpr std::string_view kProvider = "alibaba";
constexpr std::string_view kTerminationPath = "instance/spot/termination-time";

std::string_view ModeName(TokenMode mode) {
  switch (mode) {
    case TokenMode::kAuto:
      return "auto";
    case TokenMode::kRequired:
      return "required";
    case TokenMode::kOff:
      return "off";
  }
  return "unknown";
}

}  // namespace

AlibabaProvider::AlibabaProvider(AlibabaOptions options, const PollOptions& poll,
                                 std::unique_ptr<HttpClient> http, const Clock& clock)
    : options_(std::move(options)),
      session_(options_.endpoint, poll.request_timeout, std::move(http)),
      clock_(clock) {
  use_token_ = options_.token == TokenMode::kRequired;
}

void AlibabaProvider::BeginBatch() {
  session_.BeginBatch();
  batch_token_error_.reset();
}

std::string AlibabaProvider::MetadataUrl(std::string_view path) const {
  return session_.Url(std::string(kMetaData) + std::string(path));
}

Result<HttpResponse> AlibabaProvider::SendGet(const std::string& url, const std::string& token) {
  HttpRequest req;
  req.url = url;
  if (!token.empty()) req.headers.emplace_back(std::string(kTokenHeader), token);
  return session_.Send(std::move(req));
}

Result<std::string> AlibabaProvider::FetchToken() {
  long long ttl = std::clamp<long long>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.token_ttl).count(), 1, 21600);
  HttpRequest req;
  req.method = "PUT";
  req.url = session_.Url(kTokenPath);
  req.headers.emplace_back(std::string(kTtlHeader), std::to_string(ttl));
  auto r = session_.Send(req);
  if (!r.ok()) return r.status().WithContext("metadata token");
  if (r->status != 200) return HttpStatusError(r->status, "metadata token: PUT " + req.url);
  std::string token(TrimWhitespace(r->body));
  if (token.empty()) return DataLoss("metadata token: PUT " + req.url + ": empty token");
  token_.Store(token, std::chrono::seconds(ttl), clock_.Monotonic());
  return token;
}

Result<std::string> AlibabaProvider::Token(bool force_refresh) {
  const MonoTime now = clock_.Monotonic();
  if (!force_refresh && token_.Fresh(now)) return token_.value();
  auto fresh = FetchToken();
  if (fresh.ok()) return fresh;
  if (!force_refresh && token_.Usable(now)) return token_.value();
  token_.Clear();
  return fresh.status();
}

Result<HttpResponse> AlibabaProvider::Get(std::string_view path) {
  const std::string url = MetadataUrl(path);
  const TokenMode mode = options_.token;
  if (mode == TokenMode::kAuto && probe_pending_) {
    probe_pending_ = false;
    bool had = use_token_;
    use_token_ = Token(true).ok();
    if (use_token_ != had) {
      Log(LogPriority::kInfo,
          use_token_ ? "metadata hardened mode available: using tokens"
                     : "metadata hardened mode not available: plain requests",
          {{"PROVIDER", "alibaba"}});
    }
  }
  if (batch_token_error_) return *batch_token_error_;
  std::string token;
  if (use_token_) {
    auto t = Token(false);
    if (!t.ok()) {
      if (mode == TokenMode::kRequired) {
        batch_token_error_ = t.status();
        return t.status();
      }
      // kAuto: the server stopped offering tokens; go plain now and probe again later.
      use_token_ = false;
      probe_pending_ = true;
    } else {
      token = *t;
    }
  }
  auto r = SendGet(url, token);
  if (r.ok() && r->status == 401 && use_token_) {
    // Unknown or expired token: one new token, one retry.
    token_.Clear();
    auto t = Token(true);
    if (!t.ok()) {
      if (mode == TokenMode::kAuto) probe_pending_ = true;
      return t.status();
    }
    r = SendGet(url, *t);
  } else if (r.ok() && r->status == 403 && !use_token_ && mode == TokenMode::kAuto) {
    // The instance requires hardened mode now.
    auto t = Token(true);
    if (t.ok()) {
      Log(LogPriority::kInfo, "metadata answered 403 without a token: switching to hardened mode",
          {{"PROVIDER", "alibaba"}});
      use_token_ = true;
      r = SendGet(url, *t);
    }
  }
  if (mode == TokenMode::kAuto && (!r.ok() || (r->status != 200 && r->status != 404))) {
    probe_pending_ = true;
  }
  return r;
}

Result<std::optional<std::string>> AlibabaProvider::GetOptional(std::string_view path) {
  return OptionalBody(Get(path), path, MetadataUrl(path));
}

Result<Identity> AlibabaProvider::FetchIdentity() {
  BeginBatch();
  Identity id;
  for (auto [path, out] : {std::pair{"instance-id", &id.instance_id},
                           std::pair{"instance/instance-type", &id.instance_type},
                           std::pair{"zone-id", &id.zone}, std::pair{"region-id", &id.region}}) {
    LASTCALL_RETURN_IF_ERROR(RequiredValue(GetOptional(path), path, out));
  }
  id.provider = std::string(kProvider);
  LASTCALL_RETURN_IF_ERROR(ValidateIdentity(kProvider, id));
  return id;
}

PollResult AlibabaProvider::Poll() {
  PollResult result;
  BeginBatch();
  auto body = GetOptional(kTerminationPath);
  if (!body.ok()) {
    result.errors.push_back(body.status());
  } else if (body->has_value()) {
    auto t = ParseTerminationTime(**body);
    if (!t.ok()) {
      result.errors.push_back(t.status().WithContext(kTerminationPath));
    } else {
      Notice n;
      n.provider = std::string(kProvider);
      n.kind = NoticeKind::kRelease;
      n.id = MakeNoticeId(kProvider, NoticeKind::kRelease, "");
      n.action = "release";
      n.deadline = *t;
      n.source = std::string(kTerminationPath);
      n.raw = **body;
      result.notices.push_back(std::move(n));
    }
  }
  result.server_date = session_.server_date();
  return result;
}

std::string AlibabaProvider::Describe() const {
  return "alibaba ECS metadata at " + options_.endpoint + " (token " +
         std::string(ModeName(options_.token)) + (use_token_ ? ", in use" : ", not in use") +
         "): " + std::string(kTerminationPath);
}

}  // namespace lastcall
