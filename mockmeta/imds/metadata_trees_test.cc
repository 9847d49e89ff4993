// The full AWS and Alibaba metadata trees (docs/mockmeta-imds.md, "Items"): every item a client
// reads, derived values stable per instance, credentials rotating on the virtual clock, and
// identity documents whose signatures verify against the published certificate.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/time_format.h"
#include "mockmeta/imds/alibaba_metadata.h"
#include "mockmeta/imds/aws_metadata.h"
#include "mockmeta/imds/identity_signer.h"

namespace lastcall::mock {
namespace {

using nlohmann::json;

WallTime T(const char* s) { return ParseRfc3339(s).value(); }

AwsMetadataView Aws() {
  AwsMetadataView v;
  v.instance_id = "i-0123456789abcdef0";
  v.instance_type = "m5.large";
  v.ami_id = "ami-0123";
  v.local_hostname = "ip-10-3-0-5.eu-west-1.compute.internal";
  v.local_ipv4 = "10.3.0.5";
  v.mac = "02:00:00:00:00:05";
  v.availability_zone = "eu-west-1b";
  v.region = "eu-west-1";
  v.account_id = "123456789012";
  v.pending_time = T("2026-11-23T10:00:00Z");
  v.now = T("2026-11-23T10:30:00Z");
  return v;
}

AwsMetadataView AwsWithSettings() {
  AwsMetadataView v = Aws();
  v.name = "render-1";
  v.settings.instance_profile = "render-role";
  v.settings.tags = {{"team", "render"}};
  v.settings.metadata_tags = true;
  v.settings.public_ip = "203.0.113.7";
  v.public_ipv4 = "203.0.113.7";
  v.public_hostname = AwsPublicHostname("203.0.113.7", "eu-west-1");
  v.settings.key_name = "ops";
  v.settings.public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMock ops@example";
  v.settings.security_groups = {"web", "ssh"};
  v.settings.subnet_id = "subnet-0user";
  return v;
}

std::string Get(const MetadataTree& t, const std::string& path) {
  MetadataTree::Entry e = t.Lookup(path, true);
  EXPECT_NE(e.kind, MetadataTree::Entry::Kind::kNotFound) << path;
  return e.body;
}

bool Found(const MetadataTree& t, const std::string& path) {
  return t.Lookup(path, true).kind != MetadataTree::Entry::Kind::kNotFound;
}

// What a focused build (one request) answers for `path`.
std::string GetFocused(const AwsMetadataView& v, const std::string& path) {
  return Get(BuildAwsTree(v, path), path);
}

TEST(AwsTreeTest, StaticItemsOfEveryInstance) {
  MetadataTree t = BuildAwsTree(Aws());
  const std::string md = "latest/meta-data/";
  EXPECT_EQ(Get(t, md + "ami-launch-index"), "0");
  EXPECT_EQ(Get(t, md + "ami-manifest-path"), "(unknown)");
  EXPECT_EQ(Get(t, md + "block-device-mapping/"), "ami\nroot");
  EXPECT_EQ(Get(t, md + "instance-action"), "none");
  EXPECT_EQ(Get(t, md + "hostname"), "ip-10-3-0-5.eu-west-1.compute.internal");
  EXPECT_EQ(Get(t, md + "placement/availability-zone-id"), "euw1-az2");
  EXPECT_EQ(Get(t, md + "placement/region"), "eu-west-1");
  EXPECT_EQ(Get(t, md + "profile"), "default-hvm");
  EXPECT_EQ(Get(t, md + "services/domain"), "amazonaws.com");
  EXPECT_EQ(Get(t, md + "services/partition"), "aws");
  EXPECT_EQ(Get(t, md + "security-groups"), "default");
  EXPECT_EQ(Get(t, md + "reservation-id").substr(0, 2), "r-");
  // Nothing the user did not set: no profile, key, public address or tags.
  for (const char* absent :
       {"iam/info", "public-keys/", "public-ipv4", "public-hostname", "tags/instance/"}) {
    EXPECT_FALSE(Found(t, md + absent)) << absent;
  }
}

TEST(AwsTreeTest, NetworkInterfaceOfTheMac) {
  AwsMetadataView v = AwsWithSettings();
  MetadataTree t = BuildAwsTree(v);
  const std::string dir = "latest/meta-data/network/interfaces/macs/02:00:00:00:00:05/";
  EXPECT_EQ(Get(t, "latest/meta-data/network/interfaces/macs/"), "02:00:00:00:00:05/");
  EXPECT_EQ(Get(t, dir),
            "device-number\ninterface-id\nipv4-associations/\nlocal-hostname\nlocal-ipv4s\nmac\n"
            "owner-id\npublic-hostname\npublic-ipv4s\nsecurity-group-ids\nsecurity-groups\n"
            "subnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\n"
            "vpc-ipv4-cidr-blocks");
  EXPECT_EQ(Get(t, dir + "device-number"), "0");
  EXPECT_EQ(Get(t, dir + "local-ipv4s"), "10.3.0.5");
  EXPECT_EQ(Get(t, dir + "owner-id"), "123456789012");
  EXPECT_EQ(Get(t, dir + "security-groups"), "web\nssh");
  EXPECT_EQ(Get(t, dir + "subnet-id"), "subnet-0user");
  EXPECT_EQ(Get(t, dir + "subnet-ipv4-cidr-block"), "10.3.0.0/16");
  EXPECT_EQ(Get(t, dir + "vpc-ipv4-cidr-block"), "10.0.0.0/8");
  EXPECT_EQ(Get(t, dir + "ipv4-associations/203.0.113.7"), "10.3.0.5");
  EXPECT_EQ(Get(t, dir + "public-hostname"), "ec2-203-0-113-7.eu-west-1.compute.amazonaws.com");
  // Derived ids are a function of the instance: the same in every build, focused or not.
  std::string eni = Get(t, dir + "interface-id");
  EXPECT_EQ(eni.substr(0, 4), "eni-");
  EXPECT_EQ(GetFocused(v, dir + "interface-id"), eni);
  EXPECT_EQ(GetFocused(v, dir + "vpc-id"), Get(t, dir + "vpc-id"));
  EXPECT_EQ(Get(t, dir + "security-group-ids").find('\n'), 20u);  // two sg-<17 hex> lines
}

TEST(AwsTreeTest, UserSettingsShowAsTheirItems) {
  MetadataTree t = BuildAwsTree(AwsWithSettings());
  const std::string md = "latest/meta-data/";
  EXPECT_EQ(Get(t, md + "public-ipv4"), "203.0.113.7");
  EXPECT_EQ(Get(t, md + "public-keys/"), "0=ops");
  EXPECT_EQ(Get(t, md + "public-keys/0/"), "openssh-key");
  EXPECT_EQ(Get(t, md + "public-keys/0/openssh-key"),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMock ops@example");
  EXPECT_EQ(Get(t, md + "tags/instance/"), "Name\nteam");
  EXPECT_EQ(Get(t, md + "tags/instance/team"), "render");
  EXPECT_EQ(Get(t, md + "tags/instance/Name"), "render-1");
  EXPECT_EQ(Get(t, md + "iam/"), "info\nsecurity-credentials/");
  EXPECT_EQ(Get(t, md + "iam/security-credentials/"), "render-role");
  json info = json::parse(Get(t, md + "iam/info"));
  EXPECT_EQ(info["Code"], "Success");
  EXPECT_EQ(info["InstanceProfileArn"], "arn:aws:iam::123456789012:instance-profile/render-role");
  AwsMetadataView off = AwsWithSettings();
  off.settings.metadata_tags = false;
  EXPECT_FALSE(Found(BuildAwsTree(off), md + "tags/instance/team"));
}

TEST(AwsTreeTest, CredentialsRotateOnTheVirtualClock) {
  AwsMetadataView v = AwsWithSettings();
  const std::string path = "latest/meta-data/iam/security-credentials/render-role";
  json a = json::parse(GetFocused(v, path));
  for (const char* key :
       {"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}) {
    EXPECT_TRUE(a.contains(key)) << key;
  }
  EXPECT_EQ(a["Type"], "AWS-HMAC");
  EXPECT_EQ(a["LastUpdated"], "2026-11-23T10:00:00Z");
  EXPECT_EQ(a["Expiration"], "2026-11-23T16:00:00Z");
  EXPECT_EQ(a["AccessKeyId"].get<std::string>().substr(0, 4), "ASIA");
  // Within the hour the same set; an hour later a new one, valid longer.
  v.now = T("2026-11-23T10:59:59Z");
  EXPECT_EQ(json::parse(GetFocused(v, path)), a);
  v.now = T("2026-11-23T11:00:00Z");
  json b = json::parse(GetFocused(v, path));
  EXPECT_NE(b["AccessKeyId"], a["AccessKeyId"]);
  EXPECT_NE(b["Token"], a["Token"]);
  EXPECT_EQ(b["Expiration"], "2026-11-23T17:00:00Z");
  // identity-credentials/ec2 exist on every instance.
  json ec2 = json::parse(
      GetFocused(v, "latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance"));
  EXPECT_EQ(ec2["Code"], "Success");
  EXPECT_EQ(
      json::parse(GetFocused(v, "latest/meta-data/identity-credentials/ec2/info"))["AccountId"],
      "123456789012");
}

// --- signatures ------------------------------------------------------------------------------

std::string Unbase64(const std::string& lines) {
  std::string flat;
  for (char c : lines)
    if (c != '\n') flat += c;
  std::string out(flat.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(flat.data()),
                          static_cast<int>(flat.size()));
  EXPECT_GT(n, 0);
  size_t pad = flat.size() >= 2 ? (flat.end()[-1] == '=') + (flat.end()[-2] == '=') : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

X509* Certificate() {
  BIO* b = BIO_new_mem_buf(kIdentityCertificatePem.data(),
                           static_cast<int>(kIdentityCertificatePem.size()));
  X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return cert;
}

bool SignatureVerifies(const std::string& document, const std::string& sig_b64) {
  BIO* b =
      BIO_new_mem_buf(kIdentityPublicKeyPem.data(), static_cast<int>(kIdentityPublicKeyPem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  std::string sig = Unbase64(sig_b64);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(document.data()),
                             document.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

// The document the PKCS#7 carries, when its signature verifies with the published certificate.
std::optional<std::string> Pkcs7Content(const std::string& b64) {
  std::string der = Unbase64(b64);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(der.size()));
  if (!p7) return std::nullopt;
  X509* cert = Certificate();
  STACK_OF(X509)* certs = sk_X509_new_null();
  sk_X509_push(certs, cert);
  BIO* out = BIO_new(BIO_s_mem());
  std::optional<std::string> content;
  if (PKCS7_verify(p7, certs, nullptr, nullptr, out, PKCS7_NOVERIFY | PKCS7_BINARY) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(out, &data);
    content = std::string(data, static_cast<size_t>(n));
  }
  BIO_free(out);
  sk_X509_pop_free(certs, X509_free);
  PKCS7_free(p7);
  return content;
}

TEST(AwsTreeTest, IdentityDocumentIsSignedWithThePublishedKey) {
  AwsMetadataView v = Aws();
  const std::string dir = "latest/dynamic/instance-identity/";
  const std::string doc = GetFocused(v, dir + "document");
  EXPECT_EQ(json::parse(doc)["instanceId"], "i-0123456789abcdef0");
  EXPECT_TRUE(SignatureVerifies(doc, GetFocused(v, dir + "signature")));
  EXPECT_FALSE(SignatureVerifies(doc + " ", GetFocused(v, dir + "signature")));
  EXPECT_EQ(Pkcs7Content(GetFocused(v, dir + "pkcs7")), doc);
  EXPECT_EQ(Pkcs7Content(GetFocused(v, dir + "rsa2048")), doc);
}

// --- Alibaba ---------------------------------------------------------------------------------

AlibabaMetadataView Ali() {
  AlibabaMetadataView v;
  v.instance_id = "i-bp1abcdefghijklmnopq";
  v.instance_type = "ecs.g6.large";
  v.instance_name = "worker-1";
  v.hostname = "iZbp1abcdefghijklmnopqZ";
  v.region_id = "cn-hangzhou";
  v.zone_id = "cn-hangzhou-i";
  v.image_id = "m-mockmetaimage000001";
  v.mac = "00:16:3e:00:00:07";
  v.private_ipv4 = "10.0.0.7";
  v.vpc_id = "vpc-1";
  v.vswitch_id = "vsw-1";
  v.serial_number = "sn-1";
  v.owner_account_id = "1234567890";
  v.creation_time = T("2026-11-23T10:00:00Z");
  v.now = T("2026-11-23T10:30:00Z");
  v.settings.instance_profile = "EcsRole";
  v.settings.public_ip = "47.98.1.2";
  v.settings.key_name = "ops";
  v.settings.public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMock ops@example";
  v.settings.user_data = "#!/bin/sh\necho hi\n";
  return v;
}

TEST(AlibabaTreeTest, EveryDocumentedItem) {
  AlibabaMetadataView v = Ali();
  MetadataTree t = BuildAlibabaTree(v);
  const std::string md = "latest/meta-data/";
  EXPECT_EQ(Get(t, md + "dns-conf/nameservers"), "100.100.2.136\n100.100.2.138");
  EXPECT_EQ(Get(t, md + "eipv4"), "47.98.1.2");
  EXPECT_EQ(Get(t, md + "public-ipv4"), "47.98.1.2");
  EXPECT_EQ(Get(t, md + "network-type"), "vpc");
  EXPECT_EQ(Get(t, md + "ntp-conf/ntp-servers").substr(0, 24), "ntp1.cloud.aliyuncs.com\n");
  EXPECT_EQ(Get(t, md + "source-address"), "http://mirrors.cloud.aliyuncs.com");
  EXPECT_EQ(Get(t, md + "vpc-cidr-block"), "10.0.0.0/8");
  EXPECT_EQ(Get(t, md + "vswitch-cidr-block"), "10.0.0.0/16");
  EXPECT_EQ(Get(t, md + "public-keys/"), "0/");
  EXPECT_EQ(Get(t, md + "public-keys/0/openssh-key"), v.settings.public_key);
  EXPECT_EQ(Get(t, md + "ram/security-credentials/"), "EcsRole");
  const std::string nic = md + "network/interfaces/macs/00:16:3e:00:00:07/";
  EXPECT_EQ(Get(t, nic),
            "gateway\nnetmask\nnetwork-interface-id\nprimary-ip-address\nprivate-ipv4s\n"
            "vpc-cidr-block\nvpc-id\nvpc-ipv6-cidr-blocks\nvswitch-cidr-block\nvswitch-id");
  EXPECT_EQ(Get(t, nic + "gateway"), "10.0.255.253");
  EXPECT_EQ(Get(t, nic + "private-ipv4s"), R"(["10.0.0.7"])");
  EXPECT_EQ(Get(t, nic + "primary-ip-address"), "10.0.0.7");
  EXPECT_EQ(Get(t, nic + "network-interface-id").substr(0, 4), "eni-");
  std::string disks = Get(t, md + "disks/");
  ASSERT_EQ(disks.back(), '/');
  EXPECT_EQ(Get(t, md + "disks/" + disks), "id\nname");
  EXPECT_EQ(Get(t, "latest/user-data"), "#!/bin/sh\necho hi\n");
}

TEST(AlibabaTreeTest, RamCredentialsAndSignedIdentity) {
  AlibabaMetadataView v = Ali();
  const std::string role = "latest/meta-data/ram/security-credentials/EcsRole";
  json c = json::parse(Get(BuildAlibabaTree(v, role), role));
  EXPECT_EQ(c["Code"], "Success");
  EXPECT_EQ(c["AccessKeyId"].get<std::string>().substr(0, 4), "STS.");
  EXPECT_TRUE(c.contains("AccessKeySecret"));
  EXPECT_TRUE(c.contains("SecurityToken"));
  EXPECT_EQ(c["Expiration"], "2026-11-23T16:00:00Z");
  const std::string doc_path = "latest/dynamic/instance-identity/document";
  const std::string doc = Get(BuildAlibabaTree(v, doc_path), doc_path);
  EXPECT_EQ(json::parse(doc)["instance-id"], "i-bp1abcdefghijklmnopq");
  EXPECT_EQ(json::parse(doc)["owner-account-id"], "1234567890");
  const std::string p7 = "latest/dynamic/instance-identity/pkcs7";
  EXPECT_EQ(Pkcs7Content(Get(BuildAlibabaTree(v, p7), p7)), doc);
}

}  // namespace
}  // namespace lastcall::mock
