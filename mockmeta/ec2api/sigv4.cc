#include "mockmeta/ec2api/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

namespace lastcall::mock::ec2 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (true) {
    const size_t p = s.find(sep);
    out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

Status Incomplete(std::string why) { return InvalidArgument(std::move(why)); }

// Fills access key, date, region and service from "AKID/20260407/us-east-1/ec2/aws4_request".
Status ParseCredentialScope(std::string_view credential, SigV4& sig) {
  std::vector<std::string> parts = Split(credential, '/');
  if (parts.size() != 5 || parts[0].empty() || parts[1].size() != 8 || parts[2].empty() ||
      parts[4] != "aws4_request") {
    return Incomplete("Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  sig.access_key = parts[0];
  sig.date = parts[1];
  sig.region = parts[2];
  sig.service = parts[3];
  return Status::Ok();
}

Status ParseSignedHeaders(std::string_view list, SigV4& sig) {
  sig.signed_headers = Split(list, ';');
  for (const std::string& h : sig.signed_headers) {
    if (h.empty()) return Incomplete("SignedHeaders has an empty entry");
  }
  return Status::Ok();
}

Result<std::optional<SigV4>> FromHeader(std::string_view value) {
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return Incomplete("Authorization header: only AWS4-HMAC-SHA256 is supported");
  }
  SigV4 sig;
  bool have_cred = false, have_headers = false, have_sig = false;
  for (const std::string& raw : Split(value.substr(kAlgorithm.size()), ',')) {
    std::string_view part = Trim(raw);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      return Incomplete("Authorization header: '" + std::string(part.substr(0, 40)) +
                        "' is not NAME=VALUE");
    std::string_view name = part.substr(0, eq), v = part.substr(eq + 1);
    if (name == "Credential") {
      LASTCALL_RETURN_IF_ERROR(ParseCredentialScope(v, sig));
      have_cred = true;
    } else if (name == "SignedHeaders") {
      LASTCALL_RETURN_IF_ERROR(ParseSignedHeaders(v, sig));
      have_headers = true;
    } else if (name == "Signature") {
      sig.signature = std::string(v);
      have_sig = true;
    }
  }
  if (!have_cred || !have_headers || !have_sig) {
    return Incomplete("Authorization header needs Credential, SignedHeaders and Signature");
  }
  return std::optional<SigV4>(std::move(sig));
}

}  // namespace

Result<std::optional<SigV4>> ParseSigV4(
    const HttpRequest& request, const std::map<std::string, std::string, std::less<>>& query) {
  std::optional<SigV4> out;
  if (const std::string* auth = request.Header("Authorization")) {
    Result<std::optional<SigV4>> h = FromHeader(*auth);
    if (!h.ok()) return h.status();
    out = std::move(*h);
    if (const std::string* d = request.Header("X-Amz-Date")) out->amz_date = *d;
  } else if (query.count("X-Amz-Algorithm")) {
    auto get = [&](const char* k) -> const std::string* {
      auto it = query.find(k);
      return it == query.end() ? nullptr : &it->second;
    };
    if (*get("X-Amz-Algorithm") != kAlgorithm) {
      return Incomplete("X-Amz-Algorithm: only AWS4-HMAC-SHA256 is supported");
    }
    const std::string *cred = get("X-Amz-Credential"), *headers = get("X-Amz-SignedHeaders"),
                      *signature = get("X-Amz-Signature"), *date = get("X-Amz-Date");
    if (!cred || !headers || !signature || !date) {
      return Incomplete(
          "query signing needs X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature and "
          "X-Amz-Date");
    }
    SigV4 sig;
    sig.in_query = true;
    LASTCALL_RETURN_IF_ERROR(ParseCredentialScope(*cred, sig));
    LASTCALL_RETURN_IF_ERROR(ParseSignedHeaders(*headers, sig));
    sig.signature = *signature;
    sig.amz_date = *date;
    out = std::move(sig);
  } else {
    return std::optional<SigV4>();
  }
  if (out->amz_date.size() != 16) {
    return Incomplete("X-Amz-Date must be YYYYMMDDTHHMMSSZ");
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), sizeof md));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string HexEncode(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                            c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string SignatureFor(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  k = HmacSha256(k, "aws4_request");
  return HexEncode(HmacSha256(k, string_to_sign));
}

std::string CanonicalRequest(const HttpRequest& request,
                             const std::map<std::string, std::string, std::less<>>& query,
                             const SigV4& sig) {
  std::string out = request.method + "\n";
  out += UriEncode(request.path.empty() ? "/" : request.path, true) + "\n";
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [k, v] : query) {
    if (sig.in_query && k == "X-Amz-Signature") continue;
    pairs.emplace_back(UriEncode(k, false), UriEncode(v, false));
  }
  std::sort(pairs.begin(), pairs.end());
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out += '&';
    out += pairs[i].first + "=" + pairs[i].second;
  }
  out += "\n";
  for (const std::string& name : sig.signed_headers) {
    std::string joined;
    for (const auto& [k, v] : request.headers) {
      if (!EqualsIgnoreCase(k, name)) continue;
      // Trimall: inner runs of spaces become one.
      std::string value;
      for (const std::string& word : Split(Trim(v), ' ')) {
        if (word.empty()) continue;
        if (!value.empty()) value += ' ';
        value += word;
      }
      if (!joined.empty()) joined += ',';
      joined += value;
    }
    out += name + ":" + joined + "\n";
  }
  out += "\n";
  for (size_t i = 0; i < sig.signed_headers.size(); ++i) {
    if (i) out += ';';
    out += sig.signed_headers[i];
  }
  out += "\n";
  if (const std::string* h = request.Header("X-Amz-Content-SHA256")) {
    out += *h;
  } else {
    out += Sha256Hex(request.body);
  }
  return out;
}

std::string StringToSign(const SigV4& sig, std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + sig.amz_date + "\n" + sig.date + "/" + sig.region + "/" +
         sig.service + "/aws4_request\n" + Sha256Hex(canonical_request);
}

SigV4Check VerifySigV4(const HttpRequest& request,
                       const std::map<std::string, std::string, std::less<>>& query,
                       const SigV4& sig, const CredentialMap& credentials) {
  auto it = credentials.find(sig.access_key);
  if (it == credentials.end()) return SigV4Check::kUnknownKey;
  const std::string expected =
      SignatureFor(it->second, sig.date, sig.region, sig.service,
                   StringToSign(sig, CanonicalRequest(request, query, sig)));
  if (expected.size() != sig.signature.size() ||
      CRYPTO_memcmp(expected.data(), sig.signature.data(), expected.size()) != 0) {
    return SigV4Check::kMismatch;
  }
  return SigV4Check::kOk;
}

Result<CredentialMap> ParseCredentials(std::string_view text, std::string_view where) {
  CredentialMap out;
  std::string key, secret, section;
  int line_no = 0, section_line = 0;
  auto flush = [&]() -> Status {
    if (section.empty() && key.empty() && secret.empty()) return Status::Ok();
    if (key.empty() || secret.empty()) {
      return InvalidArgument(std::string(where) + ":" + std::to_string(section_line) +
                             ": profile [" + section +
                             "] needs aws_access_key_id and aws_secret_access_key");
    }
    out[key] = secret;
    key.clear();
    secret.clear();
    return Status::Ok();
  };
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const std::string at = std::string(where) + ":" + std::to_string(line_no) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']') return InvalidArgument(at + "unterminated section header");
      LASTCALL_RETURN_IF_ERROR(flush());
      section = std::string(line.substr(1, line.size() - 2));
      section_line = line_no;
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return InvalidArgument(at + "expected NAME = VALUE");
    if (section.empty()) return InvalidArgument(at + "a setting outside a [profile] section");
    const std::string_view name = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    if (name == "aws_access_key_id") {
      key = std::string(value);
    } else if (name == "aws_secret_access_key") {
      secret = std::string(value);
    }  // other settings (aws_session_token, region, ...) are not needed here
  }
  LASTCALL_RETURN_IF_ERROR(flush());
  if (out.empty()) return InvalidArgument(std::string(where) + ": no credentials in the file");
  return out;
}

Result<CredentialMap> LoadCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseCredentials(ss.str(), path);
}

}  // namespace lastcall::mock::ec2
