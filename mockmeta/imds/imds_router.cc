#include "mockmeta/imds/imds_router.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "mockmeta/imds/alibaba_metadata.h"
#include "mockmeta/imds/aws_metadata.h"

namespace lastcall::mock {
namespace {

constexpr std::string_view kTokenPath = "/latest/api/token";

// What differs between the two clouds' token flows.
struct TokenRules {
  std::string_view ttl_header;
  std::string_view token_header;
  int missing_token_status;  // AWS 401, Alibaba 403
};

constexpr TokenRules kAwsRules{kAwsTokenTtlHeader, kAwsTokenHeader, 401};
constexpr TokenRules kAlibabaRules{kAlibabaTokenTtlHeader, kAlibabaTokenHeader, 403};

// Strict: digits only, 1..21600. "60 " or "+60" or "6e1" are not a TTL.
std::optional<int> ParseTtl(const std::string* value) {
  if (value == nullptr || value->empty() || value->size() > 6) return std::nullopt;
  int n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  if (n < TokenStore::kMinTtlSeconds || n > TokenStore::kMaxTtlSeconds) return std::nullopt;
  return n;
}

HttpResponse MethodNotAllowed(std::string allow) {
  HttpResponse r = ImdsErrorPage(405);
  r.SetHeader("Allow", std::move(allow));
  return r;
}

HttpResponse IssueToken(const HttpRequest& request, const ImdsInstance& instance,
                        const TokenRules& rules, TokenStore& tokens) {
  // Requests relayed by a proxy must not get a token (AWS's defence against SSRF).
  if (request.HasHeader("X-Forwarded-For")) return ImdsErrorPage(403);
  std::optional<int> ttl = ParseTtl(request.Header(rules.ttl_header));
  if (!ttl) return ImdsErrorPage(400);
  HttpResponse r =
      HttpResponse::Text(200, tokens.Issue(instance.instance_id, std::chrono::seconds(*ttl)));
  r.SetHeader(std::string(rules.ttl_header), std::to_string(*ttl));
  return r;
}

// The token rules for a GET; nullopt when the request may proceed.
std::optional<HttpResponse> CheckToken(const HttpRequest& request, const ImdsInstance& instance,
                                       const TokenRules& rules, bool tokens_required,
                                       const TokenStore& tokens) {
  const std::string* token = request.Header(rules.token_header);
  if (token == nullptr) {
    if (tokens_required) return ImdsErrorPage(rules.missing_token_status);
    return std::nullopt;
  }
  if (tokens.Validate(instance.instance_id, *token) != TokenStore::Check::kValid) {
    return ImdsErrorPage(401);
  }
  return std::nullopt;
}

HttpResponse Serve(const MetadataTree& tree, std::string_view path) {
  // The root and "/latest/" list plain names; deeper listings mark directories with '/'.
  std::string_view trimmed = path;
  while (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  bool mark_dirs = !(trimmed.empty() || trimmed == "latest");
  MetadataTree::Entry e = tree.Lookup(path, mark_dirs);
  if (e.kind == MetadataTree::Entry::Kind::kNotFound) return ImdsErrorPage(404);
  HttpResponse r = HttpResponse::Text(200, std::move(e.body));
  r.content_type = e.content_type;
  return r;
}

std::string_view FirstSegment(std::string_view path) {
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

// "latest", "1.0" or a date "YYYY-MM-DD": a version, not an instance prefix.
bool IsVersionName(std::string_view s) {
  if (s == "latest" || s == "1.0") return true;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

// "/2009-04-04/meta-data/x" -> "/latest/meta-data/x"; "/" stays "/"; nullopt for a version the
// cloud does not list (or any other first segment: nothing else lives at the root).
std::optional<std::string> ToLatest(std::string_view rel,
                                    const std::vector<std::string_view>& versions) {
  if (rel.empty() || rel == "/") return std::string("/");
  std::string_view first = FirstSegment(rel);
  if (std::find(versions.begin(), versions.end(), first) == versions.end()) return std::nullopt;
  return "/latest" + std::string(rel.substr(1 + first.size()));
}

// A GET that passed the token rules: the version list at the root, else the tree's answer.
HttpResponse Answer(const ImdsSnapshot& snapshot, const std::string& rel_path) {
  const bool aws = snapshot.instance.flavor == ImdsFlavor::kAws;
  if (rel_path == "/") {
    std::string listing;
    for (std::string_view v : aws ? AwsMetadataVersions() : AlibabaMetadataVersions()) {
      if (!listing.empty()) listing += '\n';
      listing += v;
    }
    return HttpResponse::Text(200, std::move(listing));
  }
  // Focused on the requested path: only that leaf's value is built.
  return Serve(
      aws ? BuildAwsTree(*snapshot.aws, rel_path) : BuildAlibabaTree(*snapshot.alibaba, rel_path),
      rel_path);
}

bool IsTokenPath(std::string_view path) {
  while (path.size() > kTokenPath.size() && path.back() == '/') path.remove_suffix(1);
  return path == kTokenPath;
}

}  // namespace

HttpResponse ImdsErrorPage(int status) {
  std::string title = std::to_string(status) + " - " + std::string(HttpReason(status));
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html";
  r.body =
      "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
      "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
      " <head>\n"
      "  <title>" +
      title +
      "</title>\n"
      " </head>\n"
      " <body>\n"
      "  <h1>" +
      title +
      "</h1>\n"
      " </body>\n"
      "</html>\n";
  return r;
}

namespace {

// kMovingNotice: a pending notice says "in 2 minutes" whenever it is read, as
// amazon-ec2-metadata-mock's default mode does (its time is computed per request).
void MoveNoticeToNow(AwsMetadataView& view, WallTime now) {
  constexpr auto kAhead = std::chrono::minutes(2);
  const WallTime at = std::chrono::time_point_cast<std::chrono::seconds>(now) + kAhead;
  if (view.instance_action) view.instance_action->time = at;
  if (view.termination_time) view.termination_time = at;
}

}  // namespace

ImdsRouter::ImdsRouter(const InstanceDirectory& directory, TokenStore& tokens, FaultTable& faults)
    : directory_(directory), tokens_(tokens), faults_(faults) {}

HttpHandler ImdsRouter::AsHandler() const {
  return [this](const HttpRequest& request, const RequestContext& context) {
    return Handle(request, context);
  };
}

HttpResponse ImdsRouter::Handle(const HttpRequest& request, const RequestContext& context) const {
  // Addressing: "/<instance-id>/latest/..." or, without a prefix, the listener's instance.
  std::string_view path = request.path;
  if (path.empty() || path.front() != '/') return ImdsErrorPage(400);
  // The AWS SDK for JavaScript asks for endpoint.pathname ("/") + "/latest/meta-data/...":
  // EC2 serves "//latest/..." as "/latest/...", so a run of leading slashes is one.
  while (path.size() > 1 && path[1] == '/') path.remove_prefix(1);
  std::string_view first = FirstSegment(path);
  std::string_view prefix = (first.empty() || IsVersionName(first)) ? std::string_view() : first;
  std::optional<ImdsSnapshot> snapshot = directory_.Resolve(context.listener, prefix);
  if (!snapshot) return ImdsErrorPage(404);
  const ImdsInstance& instance = snapshot->instance;
  std::string_view rel = path.substr(prefix.empty() ? 0 : 1 + prefix.size());
  const bool aws = instance.flavor == ImdsFlavor::kAws;
  // A dated version serves the tree of "latest"; one the cloud does not list is a 404.
  std::optional<std::string> rel_path =
      ToLatest(rel, aws ? AwsMetadataVersions() : AlibabaMetadataVersions());
  if (!rel_path) return ImdsErrorPage(404);

  FaultDecision fault = faults_.Decide(instance.instance_id, *rel_path);
  if (fault.expire_tokens) tokens_.ExpireAll(instance.instance_id);
  if (fault.moving_notice && aws) MoveNoticeToNow(*snapshot->aws, tokens_.clock().Now());
  HttpResponse response;
  if (fault.drop) {
    response.drop_connection = true;
    return response;
  }
  if (fault.status) {
    response = ImdsErrorPage(*fault.status);
  } else {
    const TokenRules& rules = aws ? kAwsRules : kAlibabaRules;
    const std::optional<AwsMetadataView>& aws_view = snapshot->aws;
    const std::optional<AlibabaMetadataView>& ali_view = snapshot->alibaba;
    if (IsTokenPath(*rel_path)) {
      response = request.method == "PUT" ? IssueToken(request, instance, rules, tokens_)
                                         : MethodNotAllowed("PUT");
    } else if (request.method != "GET") {
      response = MethodNotAllowed("GET");
    } else {
      bool required = aws ? aws_view->tokens_required : ali_view->tokens_required;
      if (auto denied = CheckToken(request, instance, rules, required, tokens_)) {
        response = std::move(*denied);
      } else {
        response = Answer(*snapshot, *rel_path);
      }
    }
  }
  if (fault.flap_off && response.status == 200) response = ImdsErrorPage(404);
  if (fault.malformed) response.body.resize(response.body.size() / 2);
  response.delay = fault.latency;
  return response;
}

}  // namespace lastcall::mock
