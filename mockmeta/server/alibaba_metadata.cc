#include "mockmeta/server/alibaba_metadata.h"

#include "common/time_format.h"

namespace lastcall::mock {

MetadataTree BuildAlibabaTree(const AlibabaMetadataView& view,
                              std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  auto add = [&](std::string_view path, const std::string& value) {
    if (!value.empty()) t.Add(path, t.Wants(path) ? value : std::string());
  };
  add("latest/meta-data/hostname", view.hostname);
  add("latest/meta-data/image-id", view.image_id);
  add("latest/meta-data/instance-id", view.instance_id);
  add("latest/meta-data/instance/instance-name", view.instance_name);
  add("latest/meta-data/instance/instance-type", view.instance_type);
  add("latest/meta-data/mac", view.mac);
  add("latest/meta-data/owner-account-id", view.owner_account_id);
  add("latest/meta-data/private-ipv4", view.private_ipv4);
  add("latest/meta-data/region-id", view.region_id);
  add("latest/meta-data/serial-number", view.serial_number);
  add("latest/meta-data/vpc-id", view.vpc_id);
  add("latest/meta-data/vswitch-id", view.vswitch_id);
  add("latest/meta-data/zone-id", view.zone_id);
  if (view.termination_time) {
    constexpr std::string_view kPath = "latest/meta-data/instance/spot/termination-time";
    t.Add(kPath, t.Wants(kPath) ? FormatRfc3339(*view.termination_time) : std::string());
  }
  return t;
}

}  // namespace lastcall::mock
