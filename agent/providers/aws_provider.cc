#include "agent/providers/aws_provider.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "agent/base/identity.h"
#include "agent/base/log.h"
#include "agent/providers/metadata_parse.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kMetaData = "/latest/meta-data/";
constexpr std::string_view kTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr std::string_view kTokenHeader = "X-aws-ec2-metadata-token";
constexpr std::string_view kProvider = "aws";
// How often an agent that fell back to IMDSv1 tries to get a token again.
constexpr Duration kTokenRetryInterval = std::chrono::seconds(60);

long long TtlSeconds(Duration ttl) {
  long long s = std::chrono::duration_cast<std::chrono::seconds>(ttl).count();
  return std::clamp(s, 1LL, 21600LL);
}

// "us-east-1a" -> "us-east-1"; local and wavelength zones ("us-west-2-lax-1a") keep the
// region prefix of three dash-separated parts.
std::string RegionFromZone(std::string_view zone) {
  size_t dashes = 0, i = 0;
  for (; i < zone.size(); ++i) {
    if (zone[i] == '-' && ++dashes == 3) return std::string(zone.substr(0, i));
  }
  while (!zone.empty() && std::isalpha(static_cast<unsigned char>(zone.back()))) {
    zone.remove_suffix(1);
  }
  return std::string(zone);
}

Notice MakeNotice(NoticeKind kind, std::string_view event_id = {}) {
  Notice n;
  n.provider = std::string(kProvider);
  n.kind = kind;
  n.event_id = std::string(event_id);
  n.id = MakeNoticeId(kProvider, kind, event_id);
  return n;
}

// One monitored path each: the notices of its answer, appended to `out` (a bad answer is an
// error for the poll, the other paths still count).
Status AddInstanceAction(const std::string& body, PollResult& out) {
  auto a = ParseInstanceAction(body);
  if (!a.ok()) return a.status();
  Notice n = MakeNotice(NoticeKind::kInterruption);
  n.action = a->action;
  n.deadline = a->time;
  n.source = "spot/instance-action";
  n.raw = body;
  out.notices.push_back(std::move(n));
  return Status::Ok();
}

Status AddTerminationTime(const std::string& body, PollResult& out) {
  auto t = ParseTerminationTime(body);
  if (!t.ok()) return t.status().WithContext("spot/termination-time");
  Notice n = MakeNotice(NoticeKind::kInterruption);
  // The legacy path repeats instance-action's notice: the same notice (one key), reported
  // once; the notice stays present while either path shows it.
  bool seen = std::any_of(out.notices.begin(), out.notices.end(),
                          [&](const Notice& o) { return o.id == n.id; });
  if (seen) return Status::Ok();
  n.action = "terminate";
  n.deadline = *t;
  n.source = "spot/termination-time";
  n.raw = body;
  out.notices.push_back(std::move(n));
  return Status::Ok();
}

Status AddRebalance(const std::string& body, PollResult& out) {
  auto t = ParseRebalance(body);
  if (!t.ok()) return t.status();
  Notice n = MakeNotice(NoticeKind::kRebalance);
  n.action = "rebalance";
  n.notice_time = *t;
  n.source = "events/recommendations/rebalance";
  n.raw = body;
  out.notices.push_back(std::move(n));
  return Status::Ok();
}

Status AddScheduledEvents(const std::string& body, PollResult& out) {
  if (TrimWhitespace(body).empty()) return Status::Ok();  // treated like []
  auto events = ParseScheduledEvents(body);
  if (!events.ok()) return events.status();
  for (auto& ev : events->events) {
    Notice n = MakeNotice(NoticeKind::kMaintenance, ev.event_id);
    n.state = ev.state;
    n.action = ev.code;
    n.deadline = ev.not_before;
    n.window_end = ev.not_after;
    n.source = "events/maintenance/scheduled";
    n.raw = std::move(ev.raw);
    out.notices.push_back(std::move(n));
  }
  for (auto& e : events->errors) out.errors.push_back(std::move(e));
  return Status::Ok();
}

Status AddLifecycleState(const std::string& body, PollResult& out) {
  auto state = ParseLifecycleState(body);
  if (!state.ok()) return state.status();
  if (*state != "Terminated") return Status::Ok();
  Notice n = MakeNotice(NoticeKind::kLifecycle);
  n.action = *state;
  n.source = "autoscaling/target-lifecycle-state";
  n.raw = body;
  out.notices.push_back(std::move(n));
  return Status::Ok();
}

}  // namespace

AwsProvider::AwsProvider(AwsOptions options, const PollOptions& poll,
                         std::unique_ptr<HttpClient> http, const Clock& clock)
    : options_(std::move(options)),
      session_(options_.endpoint, poll.request_timeout, std::move(http)),
      clock_(clock) {}

void AwsProvider::BeginBatch() {
  session_.BeginBatch();
  batch_token_error_.reset();
}

Result<std::string> AwsProvider::FetchToken() {
  const long long ttl = TtlSeconds(options_.token_ttl);
  HttpRequest req;
  req.method = "PUT";
  req.url = session_.Url(kTokenPath);
  req.headers.emplace_back(std::string(kTtlHeader), std::to_string(ttl));
  auto r = session_.Send(req);
  if (!r.ok()) return r.status().WithContext("IMDSv2 token");
  if (r->status != 200) return HttpStatusError(r->status, "IMDSv2 token: PUT " + req.url);
  std::string token(TrimWhitespace(r->body));
  if (token.empty()) return DataLoss("IMDSv2 token: PUT " + req.url + ": empty token");
  long long granted = ttl;
  if (auto h = r->Header(kTtlHeader)) {
    long long v = 0;
    auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
    if (ec == std::errc() && end == h->data() + h->size() && v >= 1) {
      granted = std::min(granted, v);
    } else {
      Log(LogPriority::kDebug,
          "IMDSv2 token TTL header is not a number; assuming the requested TTL",
          {{"PROVIDER", "aws"}, {"VALUE", *h}});
    }
  } else {
    Log(LogPriority::kDebug, "IMDSv2 token answer has no TTL header; assuming the requested TTL",
        {{"PROVIDER", "aws"}});
  }
  token_.Store(token, std::chrono::seconds(granted), clock_.Monotonic());
  if (imdsv1_) Log(LogPriority::kNotice, "IMDSv2 token available again", {{"PROVIDER", "aws"}});
  imdsv1_ = false;
  return token;
}

Result<std::string> AwsProvider::Token(bool force_refresh) {
  if (batch_token_error_) return *batch_token_error_;
  const MonoTime now = clock_.Monotonic();
  if (!force_refresh) {
    if (token_.Fresh(now)) return token_.value();
    if (imdsv1_ && now < token_retry_at_) return std::string();
  }
  auto fresh = FetchToken();
  if (fresh.ok()) return fresh;
  // A failed refresh is not fatal while the old token is still valid.
  if (!force_refresh && token_.Usable(now)) return token_.value();
  token_.Clear();
  if (!options_.allow_imdsv1) {
    batch_token_error_ = fresh.status();
    return fresh.status();
  }
  if (!imdsv1_) {
    Log(LogPriority::kWarning, "no IMDSv2 token; falling back to IMDSv1 (allow_imdsv1 = true)",
        {{"PROVIDER", "aws"}, {"ERROR", fresh.status().ToString()}});
  }
  imdsv1_ = true;
  token_retry_at_ = now + kTokenRetryInterval;
  return std::string();
}

Result<HttpResponse> AwsProvider::Get(std::string_view path) {
  HttpRequest req;
  req.url = MetadataUrl(path);
  auto token = Token(false);
  if (!token.ok()) return token.status();
  if (!token->empty()) req.headers.emplace_back(std::string(kTokenHeader), *token);
  auto r = session_.Send(req);
  if (!r.ok() || r->status != 401) return r;
  // Unknown or expired token, or an instance that requires IMDSv2: one new token, one retry.
  token_.Clear();
  auto fresh = Token(true);
  if (!fresh.ok()) return fresh.status();
  if (fresh->empty()) return r;  // IMDSv1 fallback and still no token: the 401 stands
  req.headers.clear();
  req.headers.emplace_back(std::string(kTokenHeader), *fresh);
  return session_.Send(req);
}

std::string AwsProvider::MetadataUrl(std::string_view path) const {
  return session_.Url(std::string(kMetaData) + std::string(path));
}

Result<std::optional<std::string>> AwsProvider::GetOptional(std::string_view path) {
  return OptionalBody(Get(path), path, MetadataUrl(path));
}

Result<Identity> AwsProvider::FetchIdentity() {
  BeginBatch();
  Identity id;
  for (auto [path, out] :
       {std::pair{"instance-id", &id.instance_id}, std::pair{"instance-type", &id.instance_type},
        std::pair{"placement/availability-zone", &id.zone}}) {
    LASTCALL_RETURN_IF_ERROR(RequiredValue(GetOptional(path), path, out));
  }
  auto region = GetOptional("placement/region");
  if (!region.ok()) return region.status();
  if (region->has_value()) {
    id.region = std::string(TrimWhitespace(**region));
  }
  // Older IMDS versions have no placement/region: derive it from the zone.
  if (id.region.empty()) id.region = RegionFromZone(id.zone);
  id.provider = std::string(kProvider);
  LASTCALL_RETURN_IF_ERROR(ValidateIdentity(kProvider, id));
  return id;
}

PollResult AwsProvider::Poll() {
  PollResult result;
  BeginBatch();
  auto monitor = [&](bool enabled, std::string_view path,
                     Status (*on_body)(const std::string&, PollResult&)) {
    if (!enabled) return;
    auto body = GetOptional(path);
    if (!body.ok()) {
      result.errors.push_back(body.status());
      return;
    }
    if (!body->has_value()) return;  // 404: none
    Status s = on_body(**body, result);
    if (!s.ok()) result.errors.push_back(s);
  };
  // instance-action before termination-time: the legacy path only repeats it.
  monitor(options_.watch_instance_action, "spot/instance-action", AddInstanceAction);
  monitor(options_.watch_termination_time, "spot/termination-time", AddTerminationTime);
  monitor(options_.watch_rebalance, "events/recommendations/rebalance", AddRebalance);
  monitor(options_.watch_scheduled_events, "events/maintenance/scheduled", AddScheduledEvents);
  monitor(options_.watch_lifecycle_state, "autoscaling/target-lifecycle-state", AddLifecycleState);
  result.server_date = session_.server_date();
  return result;
}

std::string AwsProvider::Describe() const {
  std::string d = "aws IMDS at " + options_.endpoint + " (";
  d += imdsv1_ ? "IMDSv1" : "IMDSv2";
  d += "):";
  auto add = [&](bool on, std::string_view path) {
    if (on) d += " " + std::string(path);
  };
  add(options_.watch_instance_action, "spot/instance-action");
  add(options_.watch_termination_time, "spot/termination-time");
  add(options_.watch_rebalance, "events/recommendations/rebalance");
  add(options_.watch_scheduled_events, "events/maintenance/scheduled");
  add(options_.watch_lifecycle_state, "autoscaling/target-lifecycle-state");
  return d;
}

}  // namespace lastcall
