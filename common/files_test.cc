#include "common/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lastcall {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/files-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_;
};

TEST_F(FilesTest, WriteFileAtomicallyReplacesTheFileAndLeavesNoTemporary) {
  const std::string path = dir_ + "/a.json";
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two", {.sync = false}).ok());
  EXPECT_EQ(Slurp(path), "two");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

// Regression (issue 11, item 6): a symlink planted at <id>.json.tmp was followed and its
// target overwritten.
TEST_F(FilesTest, SymlinkPlantedAtTheTemporaryIsNotFollowed) {
  const std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "precious";
  const std::string path = dir_ + "/n.json";
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(path, "record").ok());
  EXPECT_EQ(Slurp(victim), "precious");
  EXPECT_EQ(Slurp(path), "record");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
}

TEST_F(FilesTest, ALeftoverTemporaryFromACrashDoesNotBlockTheWrite) {
  const std::string path = dir_ + "/n.json";
  std::ofstream(path + ".tmp") << "half a rec";
  ASSERT_TRUE(WriteFileAtomically(path, "record").ok());
  EXPECT_EQ(Slurp(path), "record");
}

TEST_F(FilesTest, WriteIntoAMissingDirectoryFailsWithThePath) {
  Status st = WriteFileAtomically(dir_ + "/missing/n.json", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir_ + "/missing/n.json.tmp"), std::string::npos) << st.message();
}

TEST_F(FilesTest, ReadFileBoundedReadsRegularFilesWithinTheLimit) {
  const std::string path = dir_ + "/r";
  std::ofstream(path) << "hello";
  EXPECT_EQ(*ReadFileBounded(path, 5), "hello");
  auto big = ReadFileBounded(path, 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(big.status().message().find("larger than 4 bytes"), std::string::npos);
  EXPECT_EQ(ReadFileBounded(dir_ + "/none", 5).status().code(), StatusCode::kNotFound);
}

// Regression (issue 11, item 6): a FIFO named <id>.json blocked start-up forever.
TEST_F(FilesTest, AFifoIsRefusedWithoutBlocking) {
  const std::string fifo = dir_ + "/n.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  auto r = ReadFileBounded(fifo, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos);
}

TEST_F(FilesTest, DirectoriesDevicesAndSymlinksAreRefused) {
  EXPECT_EQ(ReadFileBounded(dir_, 1024).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ReadFileBounded("/dev/zero", 1024).status().code(), StatusCode::kDataLoss);
  const std::string target = dir_ + "/t";
  std::ofstream(target) << "x";
  ASSERT_EQ(::symlink(target.c_str(), (dir_ + "/link").c_str()), 0);
  EXPECT_EQ(ReadFileBounded(dir_ + "/link", 1024).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(*ReadFileBounded(dir_ + "/link", 1024, {.follow_symlinks = true}), "x");
}

TEST_F(FilesTest, MakeDirsCreatesParentsAndRefusesAFileInTheWay) {
  ASSERT_TRUE(MakeDirs(dir_ + "/a/b/c").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/a/b/c"));
  EXPECT_TRUE(MakeDirs(dir_ + "/a/b/c").ok());  // exists already
  std::ofstream(dir_ + "/f") << "x";
  Status st = MakeDirs(dir_ + "/f/g");
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(MakeDirs(dir_ + "/f").ok());
}

TEST(FdTest, ClosesOnceAndMovesOwnership) {
  int raw[2];
  ASSERT_EQ(::pipe(raw), 0);
  Fd a(raw[0]);
  Fd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the test
  EXPECT_EQ(b.get(), raw[0]);
  EXPECT_TRUE(b.Close("pipe").ok());
  EXPECT_FALSE(b.valid());
  EXPECT_EQ(::fcntl(raw[0], F_GETFD), -1);
  Fd w(raw[1]);
  w.reset();
  EXPECT_EQ(::fcntl(raw[1], F_GETFD), -1);
}

}  // namespace
}  // namespace lastcall
