# lastcall_add_fuzzer(<name> SOURCES <files...> LIBS <targets...>)
#
# The one way this project adds a libFuzzer target (fuzz/README.md, docs/security.md "Fuzzing").
# Only in a build configured with LASTCALL_FUZZ=ON and clang (the `fuzz` preset): the libraries
# are then compiled with coverage instrumentation and ASan/UBSan (lastcall_warnings), and the
# target links libFuzzer's main. Every fuzzer joins the `lastcall_fuzzers` target, which is all
# the `fuzz` build preset builds. The binary lands in <build>/fuzz/<name>; its checked-in seed
# corpus is fuzz/corpus/<name>/ (fuzz/run.sh runs both).
function(lastcall_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} lastcall_warnings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  add_dependencies(lastcall_fuzzers ${name})
endfunction()
