// XmlWriter: builds the small XML documents the EC2 Query API answers with.
//
// Elements are opened and closed in order (Open / Close, checked by a stack in debug builds);
// Leaf writes <name>text</name> with the text escaped, so bytes from a request (a tag value, an
// unknown id echoed in a message) can never change the document's structure. Characters XML 1.0
// cannot carry at all (control characters other than tab, CR and LF) are written as U+FFFD, so
// the document always parses. Element names are the caller's constants and are not escaped.
//
// Thread-safety: a plain value; one writer per response.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lastcall::mock::ec2 {

class XmlWriter {
 public:
  // <name> (with an xmlns attribute when `xmlns` is not empty).
  XmlWriter& Open(std::string_view name, std::string_view xmlns = {});
  XmlWriter& Close();  // closes the innermost open element
  XmlWriter& Leaf(std::string_view name, std::string_view text);
  XmlWriter& Leaf(std::string_view name, long long value);
  XmlWriter& BoolLeaf(std::string_view name, bool value);
  // A leaf only when `text` is not empty (EC2 leaves out members it has no value for).
  XmlWriter& LeafIfSet(std::string_view name, std::string_view text);

  // The document so far. Every element must be closed before it is a whole document.
  const std::string& str() const { return out_; }
  bool complete() const { return open_.empty(); }

 private:
  std::string out_;
  std::vector<std::string> open_;
};

// Escapes &, <, >, " and ' and replaces characters XML cannot carry.
void AppendXmlEscaped(std::string& out, std::string_view text);
std::string XmlEscape(std::string_view text);

}  // namespace lastcall::mock::ec2
