# SPDX-License-Identifier: Apache-2.0
# Warnings are set per target, so third-party headers (included as SYSTEM) stay quiet.
function(tlsrpt_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough)
  # GCC 12 at -O3 (the Release build of scripts/bench.sh) warns -Wrestrict inside libstdc++'s
  # own `"literal" + std::string&&` (GCC bug 105329, fixed in GCC 13): a false positive in the
  # library's code, not ours, so it is off for that compiler only.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(TLSRPT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
