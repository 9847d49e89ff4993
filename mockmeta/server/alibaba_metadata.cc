#include "mockmeta/server/alibaba_metadata.h"

#include "common/time_format.h"

namespace lastcall::mock {

MetadataTree BuildAlibabaTree(const AlibabaMetadataView& view,
                              std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  const std::string md = "latest/meta-data/";
  auto add = [&](const char* path, const std::string& value) {
    if (value.empty()) return;
    std::string full = md + path;
    std::string v = t.Wants(full) ? value : std::string();
    t.Add(std::move(full), std::move(v));
  };
  add("hostname", view.hostname);
  add("image-id", view.image_id);
  add("instance-id", view.instance_id);
  add("instance/instance-name", view.instance_name);
  add("instance/instance-type", view.instance_type);
  add("mac", view.mac);
  add("owner-account-id", view.owner_account_id);
  add("private-ipv4", view.private_ipv4);
  add("region-id", view.region_id);
  add("serial-number", view.serial_number);
  add("vpc-id", view.vpc_id);
  add("vswitch-id", view.vswitch_id);
  add("zone-id", view.zone_id);
  if (view.termination_time) {
    std::string full = md + "instance/spot/termination-time";
    std::string v = t.Wants(full) ? FormatRfc3339(*view.termination_time) : std::string();
    t.Add(std::move(full), std::move(v));
  }
  return t;
}

}  // namespace lastcall::mock
