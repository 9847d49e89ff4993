// MetadataTree: a metadata service's path tree, built from leaves, answering leaf and listing
// requests the way IMDS does.
//
// Routers add one leaf per path that exists for an instance right now ("latest/meta-data/
// instance-id" -> "i-0abc"); directories exist exactly when they hold a leaf, so a notice path
// appears in its parent's listing only while the notice is up. A listing is the sorted child
// names, one per line, no trailing newline; with `mark_dirs`, directories carry a trailing '/'.
// Trailing slashes on leaf paths are tolerated ("instance-id/" is "instance-id").
//
// A tree may be built for one request: with a focus path, builders skip computing the values of
// the other leaves (Wants() says which value is needed), and the tree keeps only the leaves that
// can answer the focus (the focus itself, or the leaves under it when it is a directory), so
// listings stay exact. Serialising the identity document and the events, and storing ~20 leaves
// for every request, was most of the IMDS CPU cost (bench/RESULTS.md, "IMDS throughput").
//
// Thread-safety: a plain value; build it, then read it from one thread or share it const.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lastcall::mock {

class MetadataTree {
 public:
  struct Entry {
    enum class Kind { kNotFound, kLeaf, kDirectory };
    Kind kind = Kind::kNotFound;
    std::string body;  // the leaf's value, or the listing
    std::string content_type;
  };

  // A tree that holds every value.
  MetadataTree() = default;
  // A tree that is only asked for `focus` (leading and trailing slashes ignored): the values of
  // other leaves may be left empty. Lookup() of another leaf then answers an empty value.
  explicit MetadataTree(std::string_view focus);

  // Whether the value of the leaf at `path` (as given to Add) is needed.
  bool Wants(std::string_view path) const { return !focus_ || *focus_ == path; }
  // Whether any leaf under directory `dir` (no trailing slash) can answer the focus: builders
  // skip whole subtrees (network interfaces, credentials) that a request does not touch.
  bool WantsUnder(std::string_view dir) const;

  // `path` is relative, segments separated by '/', no leading or trailing slash. A focused tree
  // drops leaves that cannot answer its focus.
  void Add(std::string_view path, std::string value, std::string_view content_type = "text/plain");
  // Add() with the value computed by make() only when the tree Wants() it (a JSON document, a
  // formatted time): the builders' way to add every leaf.
  template <typename Make>
  void AddComputed(std::string_view path, Make&& make) {
    Add(path, Wants(path) ? std::forward<Make>(make)() : std::string());
  }
  // A leaf that exists only while `value` is not empty (public-ipv4, an unset identity field).
  void AddIfSet(std::string_view path, const std::string& value) {
    if (!value.empty()) Add(path, Wants(path) ? value : std::string());
  }

  // In the listing of directory `dir`, show subdirectory `child` as `shown` (no trailing '/'):
  // AWS lists public-keys/ as "0=my-key", and clients then read "public-keys/0/openssh-key".
  void ListAs(std::string_view dir, std::string_view child, std::string shown);

  // `path` may have leading and trailing slashes; "" and "/" are the root.
  Entry Lookup(std::string_view path, bool mark_dirs) const;

 private:
  struct Leaf {
    std::string value;
    std::string content_type;
  };
  // Whether a leaf at `path` is needed to answer the focus (always, without a focus).
  bool Keeps(std::string_view path) const;

  std::map<std::string, Leaf, std::less<>> leaves_;
  std::map<std::string, std::string, std::less<>> shown_as_;  // "dir/child" -> listing line
  std::optional<std::string> focus_;
};

}  // namespace lastcall::mock
