# oblique_build_flags: an INTERFACE target every oblique target links, so warnings and
# the one sanitizer setting (OBQ_SANITIZE) apply per target, never via CMAKE_C_FLAGS.
add_library(oblique_build_flags INTERFACE)
target_compile_options(oblique_build_flags INTERFACE
  -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -fno-strict-aliasing
  $<$<BOOL:${OBQ_WERROR}>:-Werror>)
if(OBQ_SANITIZE)
  string(REPLACE ";" "," _obq_san "${OBQ_SANITIZE}")
  target_compile_options(oblique_build_flags INTERFACE
    -fsanitize=${_obq_san} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(oblique_build_flags INTERFACE -fsanitize=${_obq_san})
endif()
if(OBQ_COVERAGE)
  target_compile_options(oblique_build_flags INTERFACE -fprofile-instr-generate -fcoverage-mapping)
  target_link_options(oblique_build_flags INTERFACE -fprofile-instr-generate)
endif()
# Libraries under a libFuzzer build get edge coverage without the fuzzer's main.
# Coroutine stacks make stack-depth coverage noisy: keep it off.
add_library(oblique_fuzz_lib_flags INTERFACE)
if(OBQ_FUZZ_ENGINE STREQUAL "libfuzzer" AND OBQ_FUZZ_NO_LINK)
  target_compile_options(oblique_fuzz_lib_flags INTERFACE -fsanitize=fuzzer-no-link)
endif()
