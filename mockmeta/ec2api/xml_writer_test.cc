#include "mockmeta/ec2api/xml_writer.h"

#include <gtest/gtest.h>

namespace lastcall::mock::ec2 {
namespace {

TEST(XmlWriterTest, NestsElementsAndEscapesText) {
  XmlWriter w;
  w.Open("DescribeTagsResponse", "http://ec2.amazonaws.com/doc/2016-11-15/")
      .Open("tagSet")
      .Open("item")
      .Leaf("key", "a<b>&\"c'")
      .Leaf("n", 42)
      .BoolLeaf("ok", true)
      .LeafIfSet("skipped", "")
      .Close()
      .Close()
      .Close();
  EXPECT_TRUE(w.complete());
  EXPECT_EQ(w.str(),
            "<DescribeTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><tagSet>"
            "<item><key>a&lt;b&gt;&amp;&quot;c&apos;</key><n>42</n><ok>true</ok></item></tagSet>"
            "</DescribeTagsResponse>");
}

TEST(XmlWriterTest, ControlCharactersCannotBreakTheDocument) {
  // XML 1.0 cannot carry NUL or ESC at all, not even as references: they become U+FFFD.
  EXPECT_EQ(XmlEscape(std::string("a\0b\x1b", 4)),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(XmlEscape("tab\there\nnl"), "tab\there\nnl");
  EXPECT_EQ(XmlEscape("</key><injected/>"), "&lt;/key&gt;&lt;injected/&gt;");
}

}  // namespace
}  // namespace lastcall::mock::ec2
