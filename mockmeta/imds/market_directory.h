// MarketDirectory: the IMDS routers' InstanceDirectory, served from the simulated Market.
//
// Find() resolves a path prefix to an instance of the Market (either flavor) and a prefix-less
// request to the instance bound to its listener (--imds-listen-instance). The views are the
// Market's MetadataView at the current virtual time (MarketHost::With advances first), mapped
// field by field to the AWS or Alibaba view. Terminated/released instances serve nothing (404),
// as on a real cloud. The IMDSv2 / hardened-mode requirement is an operator setting kept here
// (the control API sets it), not market state.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "mockmeta/core/instance.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/imds/instance_directory.h"

namespace lastcall::mock {

// Pure mappings from the core's view to the routers' views (unit-tested).
// By value: the strings are moved out of the view (one copy less per IMDS request).
AwsMetadataView ToAwsView(MetadataView view, bool tokens_required);
AlibabaMetadataView ToAlibabaView(MetadataView view, bool tokens_required);

class MarketDirectory final : public InstanceDirectory {
 public:
  explicit MarketDirectory(MarketHost& host) : host_(host) {}

  // Prefix-less requests on `listener` are for `instance_id` (port per instance).
  void BindListener(const std::string& listener, const std::string& instance_id);
  // HttpTokens=required (AWS) / hardened mode enforced (Alibaba) for one instance.
  void SetTokensRequired(const std::string& instance_id, bool required);
  bool TokensRequired(std::string_view instance_id) const;

  std::optional<ImdsInstance> Find(std::string_view listener,
                                   std::string_view prefix) const override;
  std::optional<AwsMetadataView> AwsView(std::string_view instance_id) const override;
  std::optional<AlibabaMetadataView> AlibabaView(std::string_view instance_id) const override;
  // One look at the market per IMDS request (Find + view took the market lock three times).
  std::optional<ImdsSnapshot> Resolve(std::string_view listener,
                                      std::string_view prefix) const override;

 private:
  std::optional<MetadataView> View(std::string_view instance_id) const;
  // The instance a request is for: the prefix, or the instance bound to the listener. mu_ held.
  std::optional<std::string> InstanceIdLocked(std::string_view listener,
                                              std::string_view prefix) const;

  MarketHost& host_;
  mutable std::mutex mu_;  // guards the two maps below, never held while calling host_
  std::map<std::string, std::string, std::less<>> listener_instance_;
  std::set<std::string, std::less<>> tokens_required_;
};

}  // namespace lastcall::mock
