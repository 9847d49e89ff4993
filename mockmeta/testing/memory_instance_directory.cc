#include "mockmeta/testing/memory_instance_directory.h"

namespace lastcall::mock {

void MemoryInstanceDirectory::PutAws(AwsMetadataView view) {
  std::lock_guard lock(mu_);
  alibaba_.erase(view.instance_id);
  std::string id = view.instance_id;
  aws_.insert_or_assign(std::move(id), std::move(view));
}

void MemoryInstanceDirectory::PutAlibaba(AlibabaMetadataView view) {
  std::lock_guard lock(mu_);
  aws_.erase(view.instance_id);
  std::string id = view.instance_id;
  alibaba_.insert_or_assign(std::move(id), std::move(view));
}

void MemoryInstanceDirectory::Remove(const std::string& instance_id) {
  std::lock_guard lock(mu_);
  aws_.erase(instance_id);
  alibaba_.erase(instance_id);
}

void MemoryInstanceDirectory::BindListener(const std::string& listener,
                                           const std::string& instance_id) {
  std::lock_guard lock(mu_);
  listener_instance_[listener] = instance_id;
}

std::optional<ImdsInstance> MemoryInstanceDirectory::Find(std::string_view listener,
                                                          std::string_view prefix) const {
  std::lock_guard lock(mu_);
  // A bound listener serves its own instance only (docs/mockmeta-imds.md, "Addressing").
  std::string_view id = prefix;
  auto it = listener_instance_.find(listener);
  if (it != listener_instance_.end()) {
    if (!prefix.empty() && prefix != it->second) return std::nullopt;
    id = it->second;
  }
  if (id.empty()) return std::nullopt;
  if (aws_.count(id) != 0) return ImdsInstance{std::string(id), ImdsFlavor::kAws};
  if (alibaba_.count(id) != 0) return ImdsInstance{std::string(id), ImdsFlavor::kAlibaba};
  return std::nullopt;
}

std::optional<AwsMetadataView> MemoryInstanceDirectory::AwsView(
    std::string_view instance_id) const {
  std::lock_guard lock(mu_);
  auto it = aws_.find(instance_id);
  if (it == aws_.end()) return std::nullopt;
  return it->second;
}

std::optional<AlibabaMetadataView> MemoryInstanceDirectory::AlibabaView(
    std::string_view instance_id) const {
  std::lock_guard lock(mu_);
  auto it = alibaba_.find(instance_id);
  if (it == alibaba_.end()) return std::nullopt;
  return it->second;
}

}  // namespace lastcall::mock
