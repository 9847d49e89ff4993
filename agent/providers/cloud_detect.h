// Cloud detection for `provider = "auto"`, and the provider factory.
//
// DetectProvider looks first at DMI (no network, no waiting), then probes the configured
// metadata endpoints with DetectOptions::probe_timeout each.
//
// DMI: the files sys_vendor, product_name and board_vendor under DetectOptions::dmi_dir are
// read (missing files are skipped) and matched case-insensitively:
//   "Amazon EC2" in any of them (sys_vendor / board_vendor on Nitro; product_name is the
//   instance type, e.g. "m5.large"), or "Amazon" in sys_vendor / board_vendor       -> aws
//   "Alibaba Cloud" or "Aliyun" in any of them (sys_vendor "Alibaba Cloud", product_name
//   "Alibaba Cloud ECS")                                                              -> alibaba
// Xen-era EC2 instances say only "Xen" / "HVM domU"; for them the probes decide.
//
// Probes, in this order (the first that answers like that cloud wins):
//   aws      PUT /latest/api/token with the AWS TTL header answers 200 with a token, or
//            GET /latest/meta-data/placement/availability-zone answers 200 or 401
//   alibaba  GET /latest/meta-data/zone-id answers 200 or 403 (hardened mode)
// The paths are chosen so an AWS IMDS is not taken for Alibaba and vice versa.
//
// Thread-safety: free functions; the HttpClient passed in must not be used concurrently.
#pragma once

#include <memory>
#include <string>

#include "agent/base/config.h"
#include "agent/base/provider.h"
#include "agent/providers/http_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

// What DMI says, if anything: kAws, kAlibaba, or kAuto for "no idea".
ProviderChoice DetectFromDmi(const std::string& dmi_dir, std::string* evidence = nullptr);

// config.provider when it is not kAuto; otherwise DMI, then probes. Never returns kAuto:
// when nothing matches it fails with kNotFound, naming what was seen.
// `evidence` (optional) receives a one-line reason, for the log.
Result<ProviderChoice> DetectProvider(const Config& config, HttpClient& http,
                                      std::string* evidence = nullptr);

// Builds the configured provider (detecting it when config.provider is kAuto). `http` is the
// client the provider will own; nullptr means a new HttpClient. `clock` must outlive the
// provider.
Result<std::unique_ptr<Provider>> MakeProvider(const Config& config, const Clock& clock,
                                               std::unique_ptr<HttpClient> http = nullptr);

}  // namespace lastcall
