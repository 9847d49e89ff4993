// MemoryInstanceDirectory: an InstanceDirectory backed by plain maps.
//
// Used by the server's tests and usable as the directory of a server that runs without the
// simulation core. Instances are added with their view; a listener can be bound to one
// instance (port-per-instance addressing). Every instance can also be reached on any listener
// through its id as path prefix ("/i-0abc/latest/...").
//
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "mockmeta/imds/instance_directory.h"

namespace lastcall::mock {

class MemoryInstanceDirectory final : public InstanceDirectory {
 public:
  // Adds or replaces an instance; its id is the view's instance_id.
  void PutAws(AwsMetadataView view);
  void PutAlibaba(AlibabaMetadataView view);
  void Remove(const std::string& instance_id);
  // Requests without a prefix on `listener` go to `instance_id`.
  void BindListener(const std::string& listener, const std::string& instance_id);

  std::optional<ImdsInstance> Find(std::string_view listener,
                                   std::string_view prefix) const override;
  std::optional<AwsMetadataView> AwsView(std::string_view instance_id) const override;
  std::optional<AlibabaMetadataView> AlibabaView(std::string_view instance_id) const override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, AwsMetadataView, std::less<>> aws_;
  std::map<std::string, AlibabaMetadataView, std::less<>> alibaba_;
  std::map<std::string, std::string, std::less<>> listener_instance_;
};

}  // namespace lastcall::mock
