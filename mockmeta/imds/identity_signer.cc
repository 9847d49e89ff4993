#include "mockmeta/imds/identity_signer.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace lastcall::mock {
namespace {

// A mock key, published on purpose (see the header). Generated once with
//   openssl req -new -newkey rsa:2048 -nodes ... ; openssl ca -selfsign -startdate 20000101000000Z
// so that documents of any virtual date in 2000..2100 verify.
constexpr std::string_view kPrivateKeyPem = R"(-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDCzq4G7wzutGW9
5PcajvOOIye3whnx6MbONyLcfC7/z4e3LYm4BVOeMgsIokGaxxxgfOW1vae6CzvI
D6GNZ0FLSEhqBGDbVbVTnw/HFNjnGx+9CQHCtraNPIFfHiB5K6XKzCvKsO8YSWVC
iMyOXvWScVd9VAJOpFeAWJ13sO9HbuhPQodqzUne7sg4bMkPXn4D9wBrHrXMW3AF
hvFeN5Jo/w1m44jj5G7HbdZGNjfv3JdB5GdxOaC6D6SCGEF4Te7d6dO8yDaRhNpj
knv+cENNoNmlo8FJTD8S/QLg7bUlE4HSMhBOVbigYvXlJVSyl2PLB4FFs0B50oCG
eE9M5vGVAgMBAAECggEABr0VggHk5aDx4Aa6kX2eaS1II3Aga6DMt7dqikv1aD3q
iOiXWfk9Mjyy6wKJ2GvIzIGlhIrh8WqQD9SSlwyaUptWfexW2V92nUTkS9OpyRzE
FUrpd63QVMRiCUNGhkp/OqujXCiQrLtlOE75HHemcQFgsGImjkfbCwKFt+0z6bmZ
9Mmg2deIEjYc/eeGI5DJGhPYWB1f52ZcDxYsW7a7khG4Pa5jvqUhnqccYRP93qah
7EZj/cytISIFQoB20iOolD81W2R02SsElTuKsbv2uNogXMdUke+WEMQILIrMCMRO
igqZPmplKhTyjuIVle4mCRCrMCWTUZgF9t7sr8XupQKBgQDl4eO3VDTWq5hem0hJ
juHgH1rrhUbzR2FP1w1bsMYEH6ie262e6+2DfOhctDu/JchI3fedo0OwonNfSLu4
9Lap8XVWQeJUkKPalSnMbMjVmgqPodQZ74dHEvVcdPMyT74/bLllyuZvEwUMkBic
j38B2uZr6+WVrFEABFa8DyXB/wKBgQDY8KK4qOcOKX4GsJ7KXFwE5UsRLQRc6a0P
MUWW0cuGSowJNIa4RyN+kbG82hhnGb9Sd1AE17WxGhPtFXuNE2cVDeea4rJcrpJu
jperssePfJwjEQ7aIvu8rMshGyC6NzM8CITUaCXSIxeZoGkmzTCNY8wislzqeRzS
urgKaSkkawKBgQC3YZN+U7Yy6YALOGRaCZk2aMzmxNLsjyyZvDvzwPi1oWuqDiRa
empmUeYqzbw7p7A2MJuvLOZ6qZzPjf3ydYSh3PR1culR/HA5lnRZlw4/FzsFiVrh
tap8kCsbLlAy+loRznG3OjzIrquAchKwEeiHWlAmF3B2DZgwI0Xtj0fXkQKBgQDA
6v1JiaovheZ0vIv5GLkcAWwIEihXF9a2M/LWdCqxeYmehf9n0JtX6uhMMQaSaOsi
wsd+BvWkULR3mSsOAbshlgPoUMCcewHtHxDxt0KP7xhKdtjmU0XaOy9IeX9ZGc2O
DWVSHmvDu0E5dNUNlFsg4SaflE3clWd0XmdbmrjjkQKBgFwSa7TneL6VzFxlUPtB
DvrFJCJL9GlSPnvEoLVaQR5oWhUom3lhzM+6HYGRtl/QOAb8uVM+nqyBPQ1uo1Nr
X3VvVb0r6t7oNLlLCLzg5Yk/erWjGsY/V6a1wjnXQZ/JNyg/JyXLmHd9rbwRQXOm
npRF+vwQzNJzwom92jkS2/66
-----END PRIVATE KEY-----
)";

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7, PKCS7_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

BioPtr MemBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

struct Signer {
  KeyPtr key;
  CertPtr cert;
};

const Signer& TheSigner() {
  static const Signer signer = [] {
    Signer s;
    BioPtr k = MemBio(kPrivateKeyPem);
    s.key.reset(PEM_read_bio_PrivateKey(k.get(), nullptr, nullptr, nullptr));
    BioPtr c = MemBio(kIdentityCertificatePem);
    s.cert.reset(PEM_read_bio_X509(c.get(), nullptr, nullptr, nullptr));
    return s;
  }();
  return signer;
}

// Base64 in 64-character lines, no trailing newline.
std::string Base64Lines(const unsigned char* data, size_t size) {
  std::string out;
  for (size_t at = 0; at < size; at += 48) {
    const size_t n = std::min<size_t>(48, size - at);
    unsigned char line[65];
    const int len = EVP_EncodeBlock(line, data + at, static_cast<int>(n));
    if (!out.empty()) out += '\n';
    out.append(reinterpret_cast<const char*>(line), static_cast<size_t>(len));
  }
  return out;
}

}  // namespace

const std::string_view kIdentityCertificatePem = R"(-----BEGIN CERTIFICATE-----
MIIDhjCCAm6gAwIBAgIBATANBgkqhkiG9w0BAQsFADBlMTowOAYDVQQDDDFtb2Nr
bWV0YSBpbnN0YW5jZSBpZGVudGl0eSAoTk9UIEEgUkVBTCBDTE9VRCBLRVkpMRow
GAYDVQQKDBFsYXN0Y2FsbCBtb2NrbWV0YTELMAkGA1UEBhMCWFgwIBcNMDAwMTAx
MDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMGUxOjA4BgNVBAMMMW1vY2ttZXRhIGlu
c3RhbmNlIGlkZW50aXR5IChOT1QgQSBSRUFMIENMT1VEIEtFWSkxGjAYBgNVBAoM
EWxhc3RjYWxsIG1vY2ttZXRhMQswCQYDVQQGEwJYWDCCASIwDQYJKoZIhvcNAQEB
BQADggEPADCCAQoCggEBAMLOrgbvDO60Zb3k9xqO844jJ7fCGfHoxs43Itx8Lv/P
h7ctibgFU54yCwiiQZrHHGB85bW9p7oLO8gPoY1nQUtISGoEYNtVtVOfD8cU2Ocb
H70JAcK2to08gV8eIHkrpcrMK8qw7xhJZUKIzI5e9ZJxV31UAk6kV4BYnXew70du
6E9Ch2rNSd7uyDhsyQ9efgP3AGsetcxbcAWG8V43kmj/DWbjiOPkbsdt1kY2N+/c
l0HkZ3E5oLoPpIIYQXhN7t3p07zINpGE2mOSe/5wQ02g2aWjwUlMPxL9AuDttSUT
gdIyEE5VuKBi9eUlVLKXY8sHgUWzQHnSgIZ4T0zm8ZUCAwEAAaM/MD0wDAYDVR0T
AQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwHQYDVR0OBBYEFIbCI1u12F2tFERBse6r
U2gob0YTMA0GCSqGSIb3DQEBCwUAA4IBAQCj2i9Z/Y4k2yZ0P/U44gJt7jumZqiI
ClRpaIsT5VDDqeGqFjFcWvRfQAgYMoA8cXWnw1hO4bN4j2DY2llYe7NVk3pCD5vf
0Rddz/QCQFhNwcOGMQgWiEjxghW6tjybILAVEAlS9VoP7xelL/nI9XyUUhK2Lqs+
NgeQol1JqXUfC5Jp0v/TE5m5/47REV7LlaBNqu0F6POJSTuTcJbwxHkvsetOcSyp
enDk6pQdXtgsqCHkF2UxL5xUxd9fa7dZib2Lo5eRRpXHyb+aJjIEIPUeAkiDzCQN
1zJdT9T0vZ0ZsqoEa/Km76DbF6s2OR/49/LkRDC4qN1GlU4WZ6AeZdX5
-----END CERTIFICATE-----
)";

const std::string_view kIdentityPublicKeyPem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAws6uBu8M7rRlveT3Go7z
jiMnt8IZ8ejGzjci3Hwu/8+Hty2JuAVTnjILCKJBmsccYHzltb2nugs7yA+hjWdB
S0hIagRg21W1U58PxxTY5xsfvQkBwra2jTyBXx4geSulyswryrDvGEllQojMjl71
knFXfVQCTqRXgFidd7DvR27oT0KHas1J3u7IOGzJD15+A/cAax61zFtwBYbxXjeS
aP8NZuOI4+Rux23WRjY379yXQeRncTmgug+kghhBeE3u3enTvMg2kYTaY5J7/nBD
TaDZpaPBSUw/Ev0C4O21JROB0jIQTlW4oGL15SVUspdjyweBRbNAedKAhnhPTObx
lQIDAQAB
-----END PUBLIC KEY-----
)";

std::string IdentitySignature(std::string_view document) {
  const Signer& s = TheSigner();
  if (!s.key) return "";
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, s.key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(document.data()),
                     document.size()) != 1) {
    return "";
  }
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size,
                     reinterpret_cast<const unsigned char*>(document.data()),
                     document.size()) != 1) {
    return "";
  }
  return Base64Lines(reinterpret_cast<const unsigned char*>(sig.data()), size);
}

std::string IdentityPkcs7(std::string_view document) {
  const Signer& s = TheSigner();
  if (!s.key || !s.cert) return "";
  BioPtr in = MemBio(document);
  // PKCS7_BINARY: the document's bytes as they are (no MIME canonicalisation of line ends).
  Pkcs7Ptr p7(PKCS7_sign(s.cert.get(), s.key.get(), nullptr, in.get(), PKCS7_BINARY));
  if (!p7) return "";
  unsigned char* der = nullptr;
  const int len = i2d_PKCS7(p7.get(), &der);
  if (len <= 0) return "";
  std::string out = Base64Lines(der, static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace lastcall::mock
