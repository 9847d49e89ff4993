#include "agent/providers/cloud_detect.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "agent/base/config_fields.h"
#include "agent/base/log.h"
#include "agent/providers/alibaba_provider.h"
#include "agent/providers/aws_provider.h"
#include "common/files.h"

namespace lastcall {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// First line of a small sysfs file, or "" when it cannot be read.
std::string ReadDmi(const std::string& dir, const char* name) {
  // sysfs files report a size of one page; follow links (/sys/class/dmi/id is one).
  Result<std::string> text = ReadFileBounded(dir + "/" + name, 4096, {.follow_symlinks = true});
  if (!text.ok()) return "";
  std::string line = text->substr(0, 256);
  size_t nl = line.find('\n');
  if (nl != std::string::npos) line.resize(nl);
  return std::string(TrimWhitespace(line));
}

bool Contains(std::string_view haystack_lower, std::string_view needle_lower) {
  return haystack_lower.find(needle_lower) != std::string_view::npos;
}

HttpRequest Probe(std::string method, std::string url, Duration timeout) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.timeout = timeout;
  r.connect_timeout = timeout;
  return r;
}

std::string Outcome(const Result<HttpResponse>& r) {
  return r.ok() ? "HTTP " + std::to_string(r->status) : r.status().ToString();
}

}  // namespace

ProviderChoice DetectFromDmi(const std::string& dmi_dir, std::string* evidence) {
  const std::string sys_vendor = ReadDmi(dmi_dir, "sys_vendor");
  const std::string product_name = ReadDmi(dmi_dir, "product_name");
  const std::string board_vendor = ReadDmi(dmi_dir, "board_vendor");
  const std::string seen = "sys_vendor=\"" + sys_vendor + "\" product_name=\"" + product_name +
                           "\" board_vendor=\"" + board_vendor + "\"";
  if (evidence != nullptr) *evidence = "DMI " + seen;
  const std::string sv = Lower(sys_vendor), pn = Lower(product_name), bv = Lower(board_vendor);
  for (const std::string* s : {&sv, &pn, &bv}) {
    if (Contains(*s, "alibaba cloud") || Contains(*s, "aliyun")) return ProviderChoice::kAlibaba;
  }
  for (const std::string* s : {&sv, &pn, &bv}) {
    if (Contains(*s, "amazon ec2")) return ProviderChoice::kAws;
  }
  if (Contains(sv, "amazon") || Contains(bv, "amazon")) return ProviderChoice::kAws;
  return ProviderChoice::kAuto;
}

Result<ProviderChoice> DetectProvider(const Config& config, HttpClient& http,
                                      std::string* evidence) {
  if (config.provider != ProviderChoice::kAuto) {
    if (evidence != nullptr) *evidence = "configured";
    return config.provider;
  }
  std::string dmi;
  ProviderChoice choice = DetectFromDmi(config.detect.dmi_dir, &dmi);
  if (choice != ProviderChoice::kAuto) {
    if (evidence != nullptr) *evidence = dmi;
    return choice;
  }
  const Duration timeout = config.detect.probe_timeout;

  HttpRequest put = Probe("PUT", JoinUrl(config.aws.endpoint, "/latest/api/token"), timeout);
  put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "60");
  auto aws_token = http.Send(put);
  if (aws_token.ok() && aws_token->status == 200 && !TrimWhitespace(aws_token->body).empty()) {
    if (evidence != nullptr) *evidence = "IMDSv2 token from " + config.aws.endpoint;
    return ProviderChoice::kAws;
  }
  std::string aws_outcome = "PUT token: " + Outcome(aws_token);
  // An endpoint that did not even connect is not worth a second request.
  if (aws_token.ok()) {
    auto zone = http.Send(
        Probe("GET", JoinUrl(config.aws.endpoint, "/latest/meta-data/placement/availability-zone"),
              timeout));
    if (zone.ok() && (zone->status == 200 || zone->status == 401)) {
      if (evidence != nullptr)
        *evidence = "IMDS placement/availability-zone at " + config.aws.endpoint;
      return ProviderChoice::kAws;
    }
    aws_outcome += ", GET placement/availability-zone: " + Outcome(zone);
  }

  auto ali = http.Send(
      Probe("GET", JoinUrl(config.alibaba.endpoint, "/latest/meta-data/zone-id"), timeout));
  if (ali.ok() && (ali->status == 200 || ali->status == 403)) {
    if (evidence != nullptr) *evidence = "ECS metadata zone-id at " + config.alibaba.endpoint;
    return ProviderChoice::kAlibaba;
  }
  return NotFound("cannot detect the cloud: " + dmi + " matches neither aws nor alibaba; aws " +
                  config.aws.endpoint + ": " + aws_outcome + "; alibaba " +
                  config.alibaba.endpoint + ": GET zone-id: " + Outcome(ali) +
                  "; set provider = \"aws\" or \"alibaba\" in " +
                  (config.path.empty() ? std::string("the config") : config.path));
}

Result<std::unique_ptr<Provider>> MakeProvider(const Config& config, const Clock& clock,
                                               std::unique_ptr<HttpClient> http) {
  if (http == nullptr) {
    // Refused here rather than at the first poll, so that a reload to an https endpoint is
    // refused as a whole (Daemon::Reload) and the running provider stays.
    if (!HttpsAvailable() && UsesHttps(config)) {
      return FailedPrecondition(config.path + ": " + std::string(kHttpsNeedsRestart));
    }
    http = MakeHttpClient({.proxy = config.poll.proxy});
  }
  std::string evidence;
  auto choice = DetectProvider(config, *http, &evidence);
  if (!choice.ok()) return choice.status();
  std::unique_ptr<Provider> p;
  if (*choice == ProviderChoice::kAws) {
    p = std::make_unique<AwsProvider>(config.aws, config.poll, std::move(http), clock);
  } else {
    p = std::make_unique<AlibabaProvider>(config.alibaba, config.poll, std::move(http), clock);
  }
  Log(LogPriority::kInfo, "provider " + std::string(p->name()) + " (" + evidence + ")",
      {{"PROVIDER", std::string(p->name())}});
  return p;
}

}  // namespace lastcall
