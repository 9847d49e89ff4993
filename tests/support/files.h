// Files for tests: a temporary directory removed at scope end, writing files and hook scripts
// with a mode, reading a file whole, and splitting or searching its text.
//
// Thread-safety: the functions touch only the paths they are given and are safe from any thread;
// a TempDir belongs to the thread that owns it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::testing {

// A fresh directory $TMPDIR/<stem>-XXXXXX (mode 0700), removed with everything in it at scope
// end. Throws std::runtime_error when it cannot be made.
class TempDir {
 public:
  explicit TempDir(std::string_view stem = "lastcall-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Makes `path` and its parents; `path` gets `mode` (also when it already existed).
void MakeDir(const std::string& path, unsigned mode = 0755);
void WriteFile(const std::string& path, const std::string& contents, unsigned mode = 0644);
// A /bin/sh script with mode 0755.
void WriteScript(const std::string& path, const std::string& body);
// The whole file; "" when it cannot be read.
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);
// The lines of `text` without their '\n' (a last line without one counts too).
std::vector<std::string> Lines(const std::string& text);
// Occurrences of `needle` in `haystack` (non-overlapping).
size_t CountOf(const std::string& haystack, const std::string& needle);

}  // namespace lastcall::testing
