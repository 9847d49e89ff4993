// SigV4: AWS Signature Version 4 as EC2 clients send it, parsed and (optionally) verified.
//
// ParseSigV4 finds the signature in the Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/20260407/us-east-1/ec2/aws4_request,
//  SignedHeaders=host;x-amz-date, Signature=<hex>") or in the query (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Date). The region comes from the
// credential scope. Verify rebuilds the canonical request and the string to sign exactly as
// botocore does (method, normalised path, sorted RFC 3986-encoded query, the signed headers
// trimmed and lower-cased, the body's SHA-256 or X-Amz-Content-SHA256) and compares HMAC-SHA256
// signatures in constant time. The request's X-Amz-Date is not compared with the clock: the
// simulated market runs on virtual time, clients sign with real time.
//
// Credentials: LoadCredentials reads the AWS CLI's shared credentials format
// ([profile] sections with aws_access_key_id / aws_secret_access_key), errors with file:line.
//
// Thread-safety: pure functions and plain values (OpenSSL's one-shot HMAC/SHA-256 are reentrant).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock::ec2 {

struct SigV4 {
  bool in_query = false;  // query signing (presigned) rather than the Authorization header
  std::string access_key;
  std::string date;                         // scope date, YYYYMMDD
  std::string region;                       // from the credential scope
  std::string service;                      // "ec2"
  std::string amz_date;                     // X-Amz-Date, YYYYMMDDTHHMMSSZ
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // lower-case hex
};

// nullopt when the request carries no signature at all; an error (IncompleteSignature) when it
// carries a malformed one. `query` are the decoded query parameters.
Result<std::optional<SigV4>> ParseSigV4(
    const HttpRequest& request, const std::map<std::string, std::string, std::less<>>& query);

// Access key -> secret.
using CredentialMap = std::map<std::string, std::string, std::less<>>;
Result<CredentialMap> LoadCredentials(const std::string& path);
Result<CredentialMap> ParseCredentials(std::string_view text, std::string_view where);

enum class SigV4Check { kOk, kUnknownKey, kMismatch };
SigV4Check VerifySigV4(const HttpRequest& request,
                       const std::map<std::string, std::string, std::less<>>& query,
                       const SigV4& sig, const CredentialMap& credentials);

// Building blocks (also what a test signs with).
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
std::string HexEncode(std::string_view bytes);
std::string UriEncode(std::string_view s, bool keep_slash);  // RFC 3986 unreserved kept
// The signature for `string_to_sign` with `secret` over (date, region, service).
std::string SignatureFor(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign);
std::string CanonicalRequest(const HttpRequest& request,
                             const std::map<std::string, std::string, std::less<>>& query,
                             const SigV4& sig);
std::string StringToSign(const SigV4& sig, std::string_view canonical_request);

}  // namespace lastcall::mock::ec2
