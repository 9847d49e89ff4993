// Where tests find the project's binaries and files: an environment override first (so a test
// can be pointed at an installed binary), else the build tree the test was compiled in.
// Header-only; thread-safe (reads the environment only).
#pragma once

#include <cstdlib>
#include <string>

namespace lastcall::testing {

inline std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

inline std::string SourceDir() { return EnvOr("LASTCALL_SOURCE_DIR", LASTCALL_TEST_SOURCE_DIR); }
inline std::string BinaryDir() { return EnvOr("LASTCALL_BINARY_DIR", LASTCALL_TEST_BINARY_DIR); }
inline std::string LastcalldBin() {
  return EnvOr("LASTCALLD_BIN", BinaryDir() + "/agent/lastcalld");
}
inline std::string MockmetaBin() {
  return EnvOr("MOCKMETA_BIN", BinaryDir() + "/mockmeta/mockmeta");
}

}  // namespace lastcall::testing
