// FUZZ_CHECK: the fuzzers' oracle. A property that does not hold is a finding like a crash: it
// prints what failed and aborts, so libFuzzer saves the input (crash-<sha1>) and fuzz/run.sh
// fails. Kept apart from assert() so the oracles hold in every build type.
//
// Thread-safety: the fuzzers are single-threaded.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                                            \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                 \
      std::fprintf(stderr, "\n");                                                        \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
