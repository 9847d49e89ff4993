#include "mockmeta/ecsapi/ecs_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace lastcall::mock::ecs {
namespace {

constexpr std::string_view kV3Algorithm = "ACS3-HMAC-SHA256";

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md, sizeof md);
}

std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The parts of "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex".
struct V3Parts {
  std::string credential, signed_headers, signature;
};

Result<V3Parts> ParseV3(std::string_view auth) {
  if (auth.substr(0, kV3Algorithm.size()) != kV3Algorithm) {
    return InvalidArgument("the Authorization header must use ACS3-HMAC-SHA256");
  }
  V3Parts p;
  std::string_view rest = auth.substr(kV3Algorithm.size());
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") p.credential = value;
    if (name == "SignedHeaders") p.signed_headers = value;
    if (name == "Signature") p.signature = value;
  }
  if (p.credential.empty() || p.signed_headers.empty() || p.signature.empty()) {
    return InvalidArgument(
        "the Authorization header needs Credential, SignedHeaders and Signature");
  }
  return p;
}

EcsError Incomplete(std::string message) {
  return {EcsErrorCode::kIncompleteSignature, std::move(message)};
}

}  // namespace

std::string AliPercentEncode(std::string_view s) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string SignV1(std::string_view method, const FormParams& params, std::string_view secret) {
  std::string canonical;
  for (const auto& [name, value] : params.all()) {  // std::map: sorted by name
    if (name == "Signature") continue;
    if (!canonical.empty()) canonical += '&';
    canonical += AliPercentEncode(name) + "=" + AliPercentEncode(value);
  }
  const std::string to_sign =
      std::string(method) + "&" + AliPercentEncode("/") + "&" + AliPercentEncode(canonical);
  return Base64(Hmac(EVP_sha1(), std::string(secret) + "&", to_sign));
}

std::string SignV3(const HttpRequest& request, const FormParams& query,
                   std::string_view signed_headers, std::string_view secret) {
  std::string canonical_query;
  for (const auto& [name, value] : query.all()) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += name + "=" + AliPercentEncode(value);
  }
  std::string headers;
  std::string_view rest = signed_headers;
  while (!rest.empty()) {
    const size_t semi = rest.find(';');
    std::string_view name = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    const std::string* v = request.Header(name);
    headers += std::string(name) + ":" + std::string(v ? Trim(*v) : std::string_view()) + "\n";
  }
  const std::string canonical_request =
      request.method + "\n" + request.path + "\n" + canonical_query + "\n" + headers + "\n" +
      std::string(signed_headers) + "\n" + Sha256Hex(request.body);
  const std::string to_sign = std::string(kV3Algorithm) + "\n" + Sha256Hex(canonical_request);
  const std::string mac = Hmac(EVP_sha256(), secret, to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

Result<SignatureInfo> ReadSignature(const HttpRequest& request, const FormParams& params) {
  SignatureInfo info;
  if (const std::string* auth = request.Header("Authorization")) {
    Result<V3Parts> p = ParseV3(*auth);
    if (!p.ok()) return p.status();
    info.kind = SignatureKind::kV3;
    info.access_key = p->credential;
    const std::string* nonce = request.Header("x-acs-signature-nonce");
    info.nonce = nonce ? *nonce : "";
    return info;
  }
  const std::string* key = params.Get("AccessKeyId");
  const std::string* signature = params.Get("Signature");
  if (!key && !signature) return info;  // unsigned
  info.kind = SignatureKind::kV1;
  info.access_key = key ? *key : "";
  const std::string* nonce = params.Get("SignatureNonce");
  info.nonce = nonce ? *nonce : "";
  return info;
}

MaybeError VerifySignature(const HttpRequest& request, const FormParams& query,
                           const FormParams& params, const SignatureInfo& info,
                           const CredentialMap& credentials) {
  if (info.kind == SignatureKind::kNone) {
    return Incomplete(
        "The request signature does not conform to Aliyun standards: the request "
        "is not signed.");
  }
  if (info.access_key.empty()) return Incomplete("The request carries no AccessKeyId.");
  if (info.nonce.empty()) return Incomplete("The request carries no SignatureNonce.");
  auto it = credentials.find(info.access_key);
  if (it == credentials.end()) {
    return EcsError{EcsErrorCode::kInvalidAccessKeyIdNotFound,
                    "Specified access key is not found."};
  }
  std::string expected, given;
  if (info.kind == SignatureKind::kV1) {
    const std::string* method = params.Get("SignatureMethod");
    const std::string* version = params.Get("SignatureVersion");
    const std::string* signature = params.Get("Signature");
    if (!method || *method != "HMAC-SHA1" || !version || *version != "1.0") {
      return Incomplete("SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.");
    }
    if (!signature || signature->empty()) return Incomplete("The request carries no Signature.");
    expected = SignV1(request.method, params, it->second);
    given = *signature;
  } else {
    Result<V3Parts> p = ParseV3(*request.Header("Authorization"));
    if (!p.ok()) return Incomplete(p.status().message());
    expected = SignV3(request, query, p->signed_headers, it->second);
    given = p->signature;
  }
  if (!SameSecret(expected, given)) {
    return EcsError{EcsErrorCode::kSignatureDoesNotMatch,
                    "Specified signature is not matched with our calculation."};
  }
  return std::nullopt;
}

Result<CredentialMap> LoadAlibabaCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("profiles") || !j["profiles"].is_array()) {
    return InvalidArgument(path +
                           ": not an aliyun configuration (a JSON object with a "
                           "\"profiles\" array)");
  }
  CredentialMap keys;
  size_t n = 0;
  for (const nlohmann::json& p : j["profiles"]) {
    const std::string where = path + ": profiles[" + std::to_string(n++) + "]";
    if (!p.is_object()) return InvalidArgument(where + ": not an object");
    auto field = [&](const char* name) -> std::string {
      auto f = p.find(name);
      return f != p.end() && f->is_string() ? f->get<std::string>() : "";
    };
    const std::string id = field("access_key_id"), secret = field("access_key_secret");
    if (id.empty() || secret.empty()) {
      return InvalidArgument(where + ": access_key_id and access_key_secret are required");
    }
    keys[id] = secret;
  }
  if (keys.empty()) return InvalidArgument(path + ": no profiles");
  return keys;
}

bool NonceStore::Insert(std::string_view access_key, std::string_view nonce) {
  std::string k = std::string(access_key) + '\n' + std::string(nonce);
  std::lock_guard<std::mutex> lock(mu_);
  if (!seen_.insert(k).second) return false;
  order_.push_back(std::move(k));
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

}  // namespace lastcall::mock::ecs
