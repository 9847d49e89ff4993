include(GoogleTest)

# lastcall_add_test(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>] [TIMEOUT <s>])
#
# The one way this project registers GoogleTest cases with CTest. Discovery happens when
# the tests run (PRE_TEST), not at build time, so building never executes test binaries.
# LABELS are `unit`, `integration` or `e2e` so a developer can run `ctest -L unit`.
function(lastcall_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main lastcall_warnings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE
    LASTCALL_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    LASTCALL_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    # Integration tests find the binaries under test through these, never through PATH.
    # Only one ENVIRONMENT entry survives gtest_discover_tests' list handling; the other paths
    # reach tests as compile definitions (tests/support/test_env.h).
    ENVIRONMENT "LASTCALLD_BIN=${PROJECT_BINARY_DIR}/agent/lastcalld")
endfunction()
