#include "mockmeta/imds/metadata_tree.h"

#include <set>

namespace lastcall::mock {

MetadataTree::MetadataTree(std::string_view focus) {
  while (!focus.empty() && focus.front() == '/') focus.remove_prefix(1);
  while (!focus.empty() && focus.back() == '/') focus.remove_suffix(1);
  focus_ = std::string(focus);
}

bool MetadataTree::Keeps(std::string_view path) const {
  if (!focus_ || focus_->empty() || path == *focus_) return true;
  // The focus is a directory holding this leaf: the leaf's name is part of the listing.
  return path.size() > focus_->size() && path.starts_with(*focus_) && path[focus_->size()] == '/';
}

bool MetadataTree::WantsUnder(std::string_view dir) const {
  if (!focus_ || focus_->empty()) return true;
  std::string_view f = *focus_;
  // The focus is inside `dir`, or `dir` is inside the focus (a listing above it).
  auto inside = [](std::string_view a, std::string_view b) {  // a within (or equal to) b
    return a == b || (a.size() > b.size() && a.starts_with(b) && a[b.size()] == '/');
  };
  return inside(f, dir) || inside(dir, f);
}

void MetadataTree::ListAs(std::string_view dir, std::string_view child, std::string shown) {
  std::string key(dir);
  key += '/';
  key += child;
  shown_as_.insert_or_assign(std::move(key), std::move(shown));
}

void MetadataTree::Add(std::string_view path, std::string value, std::string_view content_type) {
  if (!Keeps(path)) return;
  leaves_.insert_or_assign(std::string(path), Leaf{std::move(value), std::string(content_type)});
}

MetadataTree::Entry MetadataTree::Lookup(std::string_view path, bool mark_dirs) const {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  // An empty segment ("a//b") names nothing on IMDS.
  if (path.find("//") != std::string_view::npos) return {};

  if (!path.empty()) {
    auto it = leaves_.find(path);
    if (it != leaves_.end()) {
      return {Entry::Kind::kLeaf, it->second.value, it->second.content_type};
    }
  }
  std::string prefix(path);
  if (!prefix.empty()) prefix += '/';
  std::set<std::string> children;
  for (auto it = leaves_.lower_bound(prefix); it != leaves_.end(); ++it) {
    std::string_view key = it->first;
    if (key.substr(0, prefix.size()) != prefix) break;
    std::string_view rest = key.substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      children.emplace(rest);
    } else {
      std::string child(rest.substr(0, slash));
      if (!shown_as_.empty()) {
        auto shown = shown_as_.find(prefix + child);
        if (shown != shown_as_.end()) {
          children.insert(shown->second);
          continue;
        }
      }
      if (mark_dirs) child += '/';
      children.insert(std::move(child));
    }
  }
  if (children.empty()) return {};
  Entry listing{Entry::Kind::kDirectory, "", "text/plain"};
  for (const std::string& child : children) {
    if (!listing.body.empty()) listing.body += '\n';
    listing.body += child;
  }
  return listing;
}

}  // namespace lastcall::mock
