// ECS request signatures: reading them (which access key, which nonce) and, when mockmeta was
// given credentials (--alibaba-credentials), verifying them.
//
// Two schemes, as the SDKs send them:
//  - V1 (RPC, `SignatureVersion=1.0`, `SignatureMethod=HMAC-SHA1`): the parameters (query and
//    form body, without `Signature`) sorted and percent-encoded as Alibaba does (RFC 3986
//    unreserved characters kept), string to sign `METHOD&%2F&<encoded canonical query>`,
//    signature base64(HMAC-SHA1(secret + "&", string to sign)). The nonce is `SignatureNonce`.
//    aliyun's pop-core and openapi-client with signatureAlgorithm "v2" sign this way.
//  - V3 (`Authorization: ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`):
//    canonical request METHOD \n path \n sorted query (values encoded) \n the signed headers
//    (lowercase name:trimmed value) \n their names \n hex SHA-256 of the body; string to sign
//    "ACS3-HMAC-SHA256\n" + hex SHA-256 of the canonical request; signature hex
//    HMAC-SHA256(secret, string to sign). The nonce is `x-acs-signature-nonce`. The current
//    SDK (@alicloud/ecs20140526 over openapi-client) signs this way by default.
//
// Errors are ECS's: IncompleteSignature (a signature part missing or malformed, an unsupported
// method), InvalidAccessKeyId.NotFound, SignatureDoesNotMatch, SignatureNonceUsed.
// OpenSSL libcrypto computes the HMACs and hashes.
//
// Thread-safety: the functions are pure; NonceStore is internally synchronised.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/status.h"
#include "mockmeta/ecsapi/ecs_error.h"
#include "mockmeta/http/form_params.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock::ecs {

// Access key id -> access key secret.
using CredentialMap = std::map<std::string, std::string, std::less<>>;

// Reads the keys mockmeta accepts from an aliyun CLI configuration file (~/.aliyun/config.json):
// {"profiles":[{"name":"default","mode":"AK","access_key_id":"..","access_key_secret":".."}]}.
// Errors name the file and the profile.
Result<CredentialMap> LoadAlibabaCredentials(const std::string& path);

enum class SignatureKind { kNone, kV1, kV3 };

struct SignatureInfo {
  SignatureKind kind = SignatureKind::kNone;
  std::string access_key;
  std::string nonce;
};

// Which signature the request carries (kNone: unsigned). `params` are the query and form body
// parameters together.
Result<SignatureInfo> ReadSignature(const HttpRequest& request, const FormParams& params);

// Verifies a V1 or V3 signature against `credentials`; nullopt when it is good.
MaybeError VerifySignature(const HttpRequest& request, const FormParams& query,
                           const FormParams& params, const SignatureInfo& info,
                           const CredentialMap& credentials);

// Alibaba's percent-encoding: A-Z a-z 0-9 - _ . ~ as they are, every other byte %XX.
std::string AliPercentEncode(std::string_view s);

// The signatures themselves (exposed for tests and clients in tests).
std::string SignV1(std::string_view method, const FormParams& params, std::string_view secret);
std::string SignV3(const HttpRequest& request, const FormParams& query,
                   std::string_view signed_headers, std::string_view secret);

// The nonces seen recently, bounded (the oldest are forgotten first).
class NonceStore {
 public:
  explicit NonceStore(size_t capacity = 100000) : capacity_(capacity) {}
  // False when (key, nonce) was seen before.
  bool Insert(std::string_view access_key, std::string_view nonce);

 private:
  size_t capacity_;
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::deque<std::string> order_;
};

}  // namespace lastcall::mock::ecs
