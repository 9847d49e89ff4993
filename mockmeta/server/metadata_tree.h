// MetadataTree: a metadata service's path tree, built from leaves, answering leaf and listing
// requests the way IMDS does.
//
// Routers add one leaf per path that exists for an instance right now ("latest/meta-data/
// instance-id" -> "i-0abc"); directories exist exactly when they hold a leaf, so a notice path
// appears in its parent's listing only while the notice is up. A listing is the sorted child
// names, one per line, no trailing newline; with `mark_dirs`, directories carry a trailing '/'.
// Trailing slashes on leaf paths are tolerated ("instance-id/" is "instance-id").
//
// Thread-safety: a plain value; build it, then read it from one thread or share it const.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace lastcall::mock {

class MetadataTree {
 public:
  struct Entry {
    enum class Kind { kNotFound, kLeaf, kDirectory };
    Kind kind = Kind::kNotFound;
    std::string body;  // the leaf's value, or the listing
    std::string content_type;
  };

  // `path` is relative, segments separated by '/', no leading or trailing slash.
  void Add(std::string path, std::string value, std::string content_type = "text/plain");

  // `path` may have leading and trailing slashes; "" and "/" are the root.
  Entry Lookup(std::string_view path, bool mark_dirs) const;

 private:
  struct Leaf {
    std::string value;
    std::string content_type;
  };
  std::map<std::string, Leaf, std::less<>> leaves_;
};

}  // namespace lastcall::mock
