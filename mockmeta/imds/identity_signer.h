// IdentitySigner: signs instance identity documents with mockmeta's published mock key, the way
// the clouds sign theirs, so that a verifier can be pointed at the mock.
//
// One RSA-2048 key and its self-signed certificate are built into the binary (they are public:
// docs/mockmeta-imds.md prints both, and etc/mockmeta-identity.crt holds the certificate). They
// sign nothing but mock documents; never trust them for anything else.
//   Signature(doc)  base64 of RSA PKCS#1 v1.5 over SHA-256 of the document (AWS `signature`)
//   Pkcs7(doc)      a PKCS#7 SignedData (SHA-256, RSA) that carries the document, base64 in
//                   64-character lines without the PEM armour (AWS `pkcs7` and `rsa2048`,
//                   Alibaba `pkcs7`): `openssl smime -verify -inform PEM -noverify -certfile
//                   cert` prints the document after adding "-----BEGIN PKCS7-----" lines.
// Signing uses OpenSSL's libcrypto; a failure (it has none on valid input) yields "".
//
// Thread-safety: the functions may be called from any thread; the key is parsed once.
#pragma once

#include <string>
#include <string_view>

namespace lastcall::mock {

std::string IdentitySignature(std::string_view document);
std::string IdentityPkcs7(std::string_view document);

// The published certificate and public key (PEM).
extern const std::string_view kIdentityCertificatePem;
extern const std::string_view kIdentityPublicKeyPem;

}  // namespace lastcall::mock
