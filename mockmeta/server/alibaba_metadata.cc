#include "mockmeta/server/alibaba_metadata.h"

#include "common/time_format.h"

namespace lastcall::mock {

MetadataTree BuildAlibabaTree(const AlibabaMetadataView& view,
                              std::optional<std::string_view> focus) {
  MetadataTree t = focus ? MetadataTree(*focus) : MetadataTree();
  t.AddIfSet("latest/meta-data/hostname", view.hostname);
  t.AddIfSet("latest/meta-data/image-id", view.image_id);
  t.AddIfSet("latest/meta-data/instance-id", view.instance_id);
  t.AddIfSet("latest/meta-data/instance/instance-name", view.instance_name);
  t.AddIfSet("latest/meta-data/instance/instance-type", view.instance_type);
  t.AddIfSet("latest/meta-data/mac", view.mac);
  t.AddIfSet("latest/meta-data/owner-account-id", view.owner_account_id);
  t.AddIfSet("latest/meta-data/private-ipv4", view.private_ipv4);
  t.AddIfSet("latest/meta-data/region-id", view.region_id);
  t.AddIfSet("latest/meta-data/serial-number", view.serial_number);
  t.AddIfSet("latest/meta-data/vpc-id", view.vpc_id);
  t.AddIfSet("latest/meta-data/vswitch-id", view.vswitch_id);
  t.AddIfSet("latest/meta-data/zone-id", view.zone_id);
  if (view.termination_time) {
    t.AddComputed("latest/meta-data/instance/spot/termination-time",
                  [&] { return FormatRfc3339(*view.termination_time); });
  }
  return t;
}

}  // namespace lastcall::mock
