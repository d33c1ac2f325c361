# SPDX-License-Identifier: Apache-2.0
# Run after a test executable is built (see tlsrpt_add_test): the doctest cases of the suite
# "corpus" read the shared corpus, so they get the ctest label `corpus` beside the labels of
# their executable. scripts/test.sh leaves them out (-LE corpus) when no corpus is there.
#
# doctest_discover_tests can add suite names as labels, but it runs the executable once per
# test case to ask and then replaces the executable's own labels; one listing is enough here.
execute_process(
  COMMAND ${TEST_EXECUTABLE} --list-test-cases --test-suite=corpus
  OUTPUT_VARIABLE output
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cannot list the corpus test cases of ${TEST_EXECUTABLE}: ${result}")
endif()
string(REPLACE "\n" ";" output "${output}")
set(script "")
foreach(line IN LISTS output)
  if(line STREQUAL "" OR line MATCHES "^=+$" OR line MATCHES "^\\[doctest\\] ")
    continue()
  endif()
  string(APPEND script
    "set_tests_properties([==[${TEST_PREFIX}${line}]==] PROPERTIES LABELS [==[${TEST_LABELS};corpus]==])\n")
endforeach()
file(WRITE "${OUTPUT_FILE}" "${script}")
