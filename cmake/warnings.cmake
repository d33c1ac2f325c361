# SPDX-License-Identifier: Apache-2.0
# Warnings are set per target, so third-party headers (included as SYSTEM) stay quiet.
function(tlsrpt_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough)
  if(TLSRPT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
