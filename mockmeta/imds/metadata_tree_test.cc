#include "mockmeta/imds/metadata_tree.h"

#include <gtest/gtest.h>

namespace lastcall::mock {
namespace {

using Kind = MetadataTree::Entry::Kind;

MetadataTree Sample() {
  MetadataTree t;
  t.Add("latest/meta-data/instance-id", "i-0abc");
  t.Add("latest/meta-data/placement/region", "us-east-1");
  t.Add("latest/meta-data/placement/availability-zone", "us-east-1a");
  t.Add("latest/meta-data/ami-id", "ami-1");
  t.Add("latest/user-data", "#!/bin/sh");
  return t;
}

TEST(MetadataTreeTest, LeafReturnsItsValue) {
  auto e = Sample().Lookup("/latest/meta-data/instance-id", true);
  EXPECT_EQ(e.kind, Kind::kLeaf);
  EXPECT_EQ(e.body, "i-0abc");
  EXPECT_EQ(e.content_type, "text/plain");
}

TEST(MetadataTreeTest, TrailingSlashOnLeafIsTolerated) {
  auto e = Sample().Lookup("/latest/meta-data/instance-id/", true);
  EXPECT_EQ(e.kind, Kind::kLeaf);
  EXPECT_EQ(e.body, "i-0abc");
}

TEST(MetadataTreeTest, ListingIsSortedWithDirectoriesMarked) {
  auto e = Sample().Lookup("/latest/meta-data/", true);
  EXPECT_EQ(e.kind, Kind::kDirectory);
  EXPECT_EQ(e.body, "ami-id\ninstance-id\nplacement/");
  EXPECT_EQ(Sample().Lookup("/latest/meta-data", true).body, e.body);
  EXPECT_EQ(Sample().Lookup("latest/meta-data/placement", true).body, "availability-zone\nregion");
}

TEST(MetadataTreeTest, UnmarkedListingsForRootAndLatest) {
  EXPECT_EQ(Sample().Lookup("/", false).body, "latest");
  EXPECT_EQ(Sample().Lookup("", false).body, "latest");
  EXPECT_EQ(Sample().Lookup("/latest/", false).body, "meta-data\nuser-data");
}

TEST(MetadataTreeTest, UnknownPathsAreNotFound) {
  MetadataTree t = Sample();
  EXPECT_EQ(t.Lookup("/latest/meta-data/nope", true).kind, Kind::kNotFound);
  EXPECT_EQ(t.Lookup("/latest/meta-data/instance-id/more", true).kind, Kind::kNotFound);
  EXPECT_EQ(t.Lookup("/latest/meta-data//instance-id", true).kind, Kind::kNotFound);
  // A prefix of a name is not a directory.
  EXPECT_EQ(t.Lookup("/latest/meta-data/inst", true).kind, Kind::kNotFound);
  EXPECT_EQ(MetadataTree().Lookup("/", false).kind, Kind::kNotFound);
}

TEST(MetadataTreeTest, FocusedTreeWantsOnlyItsFocus) {
  MetadataTree all;
  EXPECT_TRUE(all.Wants("latest/meta-data/instance-id"));
  MetadataTree t("/latest/meta-data/instance-id/");
  EXPECT_TRUE(t.Wants("latest/meta-data/instance-id"));
  EXPECT_FALSE(t.Wants("latest/meta-data/ami-id"));
  EXPECT_FALSE(t.Wants("latest/meta-data"));
  MetadataTree root("/");
  EXPECT_FALSE(root.Wants("latest/meta-data/instance-id"));
}

TEST(MetadataTreeTest, WantsUnderSaysWhetherASubtreeCanAnswerTheFocus) {
  MetadataTree leaf("latest/meta-data/iam/info");
  EXPECT_TRUE(leaf.WantsUnder("latest/meta-data/iam"));
  EXPECT_FALSE(leaf.WantsUnder("latest/meta-data/network"));
  EXPECT_FALSE(leaf.WantsUnder("latest/meta-data/ia"));  // a segment, not a string prefix
  MetadataTree listing("latest/meta-data/");
  EXPECT_TRUE(listing.WantsUnder("latest/meta-data/network/interfaces"));
  EXPECT_TRUE(MetadataTree().WantsUnder("latest/anything"));
}

TEST(MetadataTreeTest, ListAsShowsASubdirectoryUnderAnotherName) {
  MetadataTree t;
  t.Add("latest/meta-data/public-keys/0/openssh-key", "ssh-ed25519 AAAA");
  t.ListAs("latest/meta-data/public-keys", "0", "0=my-key");
  EXPECT_EQ(t.Lookup("latest/meta-data/public-keys/", true).body, "0=my-key");
  EXPECT_EQ(t.Lookup("latest/meta-data/public-keys/0/", true).body, "openssh-key");
  EXPECT_EQ(t.Lookup("latest/meta-data/", true).body, "public-keys/");
}

}  // namespace
}  // namespace lastcall::mock
