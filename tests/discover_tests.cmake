# Registers the doctest cases of one test program with CTest, file by file, so that a program built
# from several test files (tests/CMakeLists.txt) still gives each case a test of its own named
# "<file>: <case>", as when every file was a program. doctest's own doctest_discover_tests names
# the cases by program only. Run by CMake after the program is built:
#   cmake -D PROGRAM=<path> -D FILES=test_a,test_b -D WORKING_DIR=<dir> -D PROPERTIES=<file>
#         -D OUTPUT=<file> -P discover_tests.cmake
# where PROPERTIES is a CMake file that may set properties_<file> to CTest properties for the
# cases of that file (minicnn_test_file_properties() in tests/CMakeLists.txt writes it).
# For each file it lists the program's cases from that file (doctest's --source-file filter, which
# matches the __FILE__ of the case) and writes one add_test per case that runs
#   PROGRAM --test-case=<case> --source-file=*/<file>.cpp
# so that a case name used in two files runs only the one of its file. A run in which no case
# matched (doctest then reports "test cases: 0" and succeeds) fails, so that a filter that stops
# matching cannot pass silently.
string(REPLACE "," ";" files "${FILES}")
include("${PROPERTIES}")
set(script "")
foreach(file IN LISTS files)
  set(source_filter "--source-file=*/${file}.cpp")
  execute_process(COMMAND "${PROGRAM}" --list-test-cases "${source_filter}"
                  OUTPUT_VARIABLE listing RESULT_VARIABLE status WORKING_DIRECTORY "${WORKING_DIR}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} --list-test-cases ${source_filter} failed (${status}):\n${listing}")
  endif()
  # The listing is framed by "[doctest] ..." lines and rules of '='; every other line is a case.
  # A ';' in a name is kept aside while the lines are split into a CMake list, then put back (the
  # names are written as bracket arguments, which keep it). Names may not contain square brackets.
  string(REPLACE ";" "<semicolon>" listing "${listing}")
  string(REPLACE "\n" ";" lines "${listing}")
  set(cases 0)
  foreach(name IN LISTS lines)
    string(REPLACE "<semicolon>" ";" name "${name}")
    if(name STREQUAL "" OR name MATCHES "^\\[doctest\\] " OR name MATCHES "^=+$")
      continue()
    endif()
    string(REPLACE "," "\\," filter "${name}")  # doctest splits filters at unescaped commas
    string(APPEND script
      "add_test([==[${file}: ${name}]==] [==[${PROGRAM}]==] [==[--test-case=${filter}]==] "
      "[==[${source_filter}]==])\n"
      "set_tests_properties([==[${file}: ${name}]==] PROPERTIES WORKING_DIRECTORY "
      "[==[${WORKING_DIR}]==] FAIL_REGULAR_EXPRESSION [==[test cases: +0 \\|]==]")
    foreach(item IN LISTS properties_${file})
      string(APPEND script " [==[${item}]==]")
    endforeach()
    string(APPEND script ")\n")
    math(EXPR cases "${cases} + 1")
  endforeach()
  # A file with no case found means the filter no longer matches: fail rather than lose its tests.
  if(cases EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} holds no test case from ${file}.cpp")
  endif()
endforeach()
file(WRITE "${OUTPUT}" "${script}")
