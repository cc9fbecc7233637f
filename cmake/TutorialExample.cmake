# tutorial_example(): the single declaration of an example program.
#
#   tutorial_example(NAME [LIBS flag...] [FLAGS flag...] [ARGS arg...]
#                    [TIMEOUT seconds] [MPI] [NP n] [THREADS] [DOXYGEN] [BENCHMARK]
#                    [TIMELINE] [HEADERS file.hpp...])
#   tutorial_example(NAME RUN_OF EXAMPLE [ARGS arg...] [TIMEOUT seconds] [BENCHMARK]
#                    [LAUNCHER command...] [TIMELINE])
#
# NAME.cpp and NAME.expect live in the calling chapter folder (examples/<chapter>/).
# From this one call derive: the executable, the command a reader types to build it
# (written to the manifest that the Sphinx directive reads), the run that captures its
# output, its CTest tests (run + audit, standalone build, bad arguments, and injected
# faults if its chapter is in TUTORIAL_FAULT_CHAPTERS), its chapter target, its
# Doxygen input, and the marker-free copy of its source that readers see and download
# (build/listings/; tools/listings.py: named regions, "// ANCHOR: name").
#
#   LIBS     link flags as a reader types them (-lrt, -ltbb); used verbatim here too
#   FLAGS    compile-and-link flags (-fopenmp)
#   ARGS     arguments for the captured run
#   TIMEOUT  seconds before the runner kills the whole process tree (default 30)
#   MPI      build with mpicxx, run as `mpirun -np NP --oversubscribe` (NP default 4)
#   THREADS  the example uses threads: it is also run under ThreadSanitizer
#   BENCHMARK its claims depend on timing: CTest runs it alone (RUN_SERIAL), and the
#            build captures it last, alone (see tutorial_finish)
#   DOXYGEN  Doxygen reads this file, so a page can render it with Breathe
#   RUN_OF   no NAME.cpp: another captured run (ARGS, NAME.expect) of EXAMPLE, declared
#            earlier in the same chapter. Its page shows the run, not the source again.
#            Timing runs of instrumented code prove nothing, so none under sanitizers.
#   LAUNCHER with RUN_OF: start the program with this command instead of its own
#            launcher (e.g. tests/mpi_two_hosts/two_hosts.sh: mpirun on two hosts).
#            A launcher that exits 77 could not run here (it says why): the runner
#            reports SKIPPED, the test is skipped, the page shows the reason.
#   TIMELINE one more captured run, under strace (tools/timeline.py), whose trace
#            (outputs/<chapter>/NAME.strace) a page draws: `.. cpp-timeline:: <id>`
#   HEADERS  headers NAME.cpp includes ("x.hpp"), relative to the chapter folder; a
#            header of another chapter is named ../<chapter>/x.hpp. Each travels with
#            the program: its folder is on the include path, its marker-free copy sits
#            beside NAME.cpp in build/listings/<chapter>/ (so the page's build command,
#            the standalone test and the archive find it there), the page offers it
#            as a download and shows its regions (`:file: x.hpp` with `:region:`), and
#            tools/visibility.py counts its calls against the page. DOXYGEN reads it.

# Ninja runs the commands of this pool one at a time (other generators ignore it).
set_property(GLOBAL APPEND PROPERTY JOB_POOLS tutorial_benchmark=1)

set(TUTORIAL_CXX_STD_FLAGS -std=c++20 -O2 -Wall -Wextra -Wpedantic -pthread)
set(TUTORIAL_RUNNER ${PROJECT_SOURCE_DIR}/tools/runner.py)
set(TUTORIAL_LISTINGS ${PROJECT_SOURCE_DIR}/tools/listings.py)
set(TUTORIAL_FAULT_DRIVER ${PROJECT_SOURCE_DIR}/tests/fault/fault.py)
set(TUTORIAL_BAD_ARGS_EXPECT ${PROJECT_SOURCE_DIR}/tools/bad-arguments.expect)
set(TUTORIAL_TIMELINE ${PROJECT_SOURCE_DIR}/tools/timeline.py)
set(TUTORIAL_EXERCISE_ACCEPTED ${PROJECT_SOURCE_DIR}/tests/exercises/accepted.expect)
set(TUTORIAL_EXERCISE_REJECTED ${PROJECT_SOURCE_DIR}/tests/exercises/rejected.expect)

if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(TUTORIAL_COMPILER "GCC ${CMAKE_CXX_COMPILER_VERSION}")
  set(TUTORIAL_CONFIG gcc)
else()
  set(TUTORIAL_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
  string(TOLOWER "${CMAKE_CXX_COMPILER_ID}" TUTORIAL_CONFIG)
endif()
if(TUTORIAL_SANITIZE STREQUAL "address")
  string(APPEND TUTORIAL_CONFIG "-asan")
elseif(TUTORIAL_SANITIZE STREQUAL "thread")
  string(APPEND TUTORIAL_CONFIG "-tsan")
endif()

# JSON string literal for the manifest.
function(_tutorial_json_string out value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

function(tutorial_example name)
  cmake_parse_arguments(PARSE_ARGV 1 ex "MPI;THREADS;DOXYGEN;BENCHMARK;TIMELINE" "TIMEOUT;NP;RUN_OF"
                        "LIBS;FLAGS;ARGS;LAUNCHER;HEADERS")
  if(ex_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tutorial_example(${name}): unknown arguments: ${ex_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(chapter "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  set(id "${chapter}/${name}")
  set(program ${name})
  if(ex_RUN_OF)
    if(ex_MPI OR ex_THREADS OR ex_DOXYGEN OR ex_LIBS OR ex_FLAGS OR ex_HEADERS)
      message(FATAL_ERROR "tutorial_example(${name}): RUN_OF takes only ARGS, TIMEOUT, BENCHMARK, LAUNCHER, TIMELINE")
    endif()
    if(NOT TARGET ${chapter}.${ex_RUN_OF} AND NOT TUTORIAL_SANITIZE)
      message(FATAL_ERROR "tutorial_example(${name}): RUN_OF ${ex_RUN_OF}: no such example "
                          "declared before it in ${chapter}")
    endif()
    set(program ${ex_RUN_OF})
  elseif(ex_LAUNCHER)
    message(FATAL_ERROR "tutorial_example(${name}): LAUNCHER needs RUN_OF")
  endif()
  set(src "${CMAKE_CURRENT_SOURCE_DIR}/${program}.cpp")
  set(expect "${CMAKE_CURRENT_SOURCE_DIR}/${name}.expect")
  if(_tutorial_exercise_dir)   # tutorial_exercise(): the reference solution
    set(src "${_tutorial_exercise_dir}/solution.cpp")
    set(expect "${_tutorial_exercise_dir}/${name}.expect")
  endif()
  set(headers "")   # absolute paths of the HEADERS
  foreach(header IN LISTS ex_HEADERS)
    get_filename_component(header "${header}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND headers "${header}")
  endforeach()
  foreach(file IN ITEMS "${src}" "${expect}" ${headers})
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "tutorial_example(${name}): ${file} does not exist")
    endif()
  endforeach()
  if(NOT ex_TIMEOUT)
    set(ex_TIMEOUT 30)
  endif()
  if(NOT ex_NP)
    set(ex_NP 4)
  endif()

  # Under ThreadSanitizer only examples that use threads are built.
  if(TUTORIAL_SANITIZE STREQUAL "thread" AND NOT ex_THREADS)
    return()
  endif()
  if(TUTORIAL_SANITIZE AND ex_RUN_OF)
    return()
  endif()

  set(target "${chapter}.${program}")
  set(launcher "")
  if(ex_RUN_OF)   # the program's executable, build command and launcher
    get_target_property(build_command ${target} TUTORIAL_BUILD_COMMAND)
    get_target_property(launcher ${target} TUTORIAL_LAUNCHER)
    if(ex_LAUNCHER)
      set(launcher ${ex_LAUNCHER})
    endif()
  else()
    # The executable: exactly the reader's flags, plus -Werror.
    add_executable(${target} "${src}")
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name}
      RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}")
    target_compile_options(${target} PRIVATE ${TUTORIAL_CXX_STD_FLAGS} -Werror ${ex_FLAGS})
    target_link_options(${target} PRIVATE -pthread ${ex_FLAGS})
    target_link_libraries(${target} PRIVATE ${ex_LIBS})
    foreach(header IN LISTS headers)   # `#include "x.hpp"`, from any chapter
      get_filename_component(header_dir "${header}" DIRECTORY)
      target_include_directories(${target} PRIVATE "${header_dir}")
    endforeach()
    set_property(GLOBAL APPEND PROPERTY TUTORIAL_PROGRAMS ${target})
    set(compiler g++)
    if(ex_MPI)
      find_package(MPI REQUIRED COMPONENTS CXX)
      target_link_libraries(${target} PRIVATE MPI::MPI_CXX)
      set(compiler mpicxx)
      set(launcher mpirun -np ${ex_NP} --oversubscribe)
    endif()
    # What the reader types (shown on the page, run by the standalone-build test).
    list(JOIN TUTORIAL_CXX_STD_FLAGS " " std_flags)
    string(JOIN " " build_command ${compiler} ${std_flags} ${ex_FLAGS} ${name}.cpp -o ${name} ${ex_LIBS})
    set_target_properties(${target} PROPERTIES TUTORIAL_BUILD_COMMAND "${build_command}"
                                               TUTORIAL_LAUNCHER "${launcher}")
    # For tutorial_mutant(): the captured run's arguments and time limit.
    set_target_properties(${target} PROPERTIES TUTORIAL_ARGS "${ex_ARGS}" TUTORIAL_TIMEOUT ${ex_TIMEOUT})
  endif()
  string(JOIN " " run_command ${launcher} ./${program} ${ex_ARGS})
  string(REPLACE "${PROJECT_SOURCE_DIR}/" "" run_command "${run_command}")   # as the reader types it

  # What readers see and download: the source without its region markers
  # (tools/listings.py; a bad marker fails the build, naming file and line).
  set(listing "${CMAKE_BINARY_DIR}/listings/${chapter}/${program}.cpp")
  if(NOT TARGET chapter-${chapter})
    add_custom_target(chapter-${chapter} ALL)
    set_property(GLOBAL APPEND PROPERTY TUTORIAL_CHAPTERS ${chapter})
  endif()
  # The chapter's target builds its programs in every preset, also where nothing is
  # captured (the sanitizer builds build just `examples`, not the Catch2 programs).
  add_dependencies(chapter-${chapter} ${target})
  set(header_listings "")   # beside the program's listing, as the reader keeps them
  set(header_outputs "")    # those this example writes (the first of a chapter to name it)
  set(header_commands "")
  set(header_makers "")     # the listing targets that wrote the others
  foreach(header IN LISTS headers)
    get_filename_component(header_name "${header}" NAME)
    set(header_listing "${CMAKE_BINARY_DIR}/listings/${chapter}/${header_name}")
    list(APPEND header_listings "${header_listing}")
    get_property(maker GLOBAL PROPERTY "TUTORIAL_LISTING_MAKER_${header_listing}")
    if(maker)
      list(APPEND header_makers ${maker})
    elseif(NOT ex_RUN_OF)
      set_property(GLOBAL PROPERTY "TUTORIAL_LISTING_MAKER_${header_listing}" listing.${chapter}.${name})
      list(APPEND header_outputs "${header_listing}")
      list(APPEND header_commands COMMAND ${TUTORIAL_PYTHON} ${TUTORIAL_LISTINGS} "${header}"
                                  "${header_listing}")
    endif()
  endforeach()
  if(NOT ex_RUN_OF)
    add_custom_command(OUTPUT "${listing}" ${header_outputs}
      COMMAND ${TUTORIAL_PYTHON} ${TUTORIAL_LISTINGS} "${src}" "${listing}"
      ${header_commands}
      DEPENDS "${src}" ${headers} ${TUTORIAL_LISTINGS}
      COMMENT "Listing ${id}.cpp"
      VERBATIM)
    add_custom_target(listing.${chapter}.${name} DEPENDS "${listing}" ${header_outputs})
    if(header_makers)
      add_dependencies(listing.${chapter}.${name} ${header_makers})
    endif()
    add_dependencies(${target} listing.${chapter}.${name})
    add_dependencies(chapter-${chapter} listing.${chapter}.${name})
    set_property(GLOBAL APPEND PROPERTY TUTORIAL_LISTING_TARGETS_${chapter} listing.${chapter}.${name})
  endif()

  # Capture: re-run only when the binary, its arguments or its expectations change.
  set(out "${CMAKE_BINARY_DIR}/outputs/${chapter}/${name}")
  set(run ${TUTORIAL_PYTHON} ${TUTORIAL_RUNNER} --name ${id} --timeout ${ex_TIMEOUT}
          --compiler "${TUTORIAL_COMPILER}")
  if(ex_LAUNCHER)
    list(APPEND run --skip-exit 77)
  endif()
  if(TUTORIAL_RUN_EXAMPLES)   # OFF: outputs come from elsewhere (CI's chapter jobs)
    set(pool "")
    if(ex_BENCHMARK)
      set(pool JOB_POOL tutorial_benchmark)
      set_property(GLOBAL APPEND PROPERTY TUTORIAL_BENCHMARK_RUNS run.${chapter}.${name})
    else()
      set_property(GLOBAL APPEND PROPERTY TUTORIAL_OTHER_RUNS run.${chapter}.${name})
    endif()
    add_custom_command(OUTPUT "${out}.txt" "${out}.json"
      COMMAND ${run} --expect "${expect}" --out "${out}" -- ${launcher} $<TARGET_FILE:${target}> ${ex_ARGS}
      DEPENDS ${target} "${expect}" ${TUTORIAL_RUNNER} ${PROJECT_SOURCE_DIR}/tools/expect.py
      WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}"
      COMMENT "Running ${id}"
      ${pool}
      VERBATIM)
    # Custom-command outputs are only visible to targets of the same directory,
    # so each run gets a target here and the chapter target collects them.
    add_custom_target(run.${chapter}.${name} DEPENDS "${out}.txt" "${out}.json")
    add_dependencies(chapter-${chapter} run.${chapter}.${name})
    if(ex_TIMELINE)   # the same run under strace, checked the same way, for the timeline
      add_custom_command(OUTPUT "${out}.strace"
        COMMAND ${run} --expect "${expect}" --out "${out}.traced" -- ${TUTORIAL_PYTHON} ${TUTORIAL_TIMELINE}
                strace "${out}.strace" -- ${launcher} $<TARGET_FILE:${target}> ${ex_ARGS}
        COMMAND ${TUTORIAL_PYTHON} ${TUTORIAL_TIMELINE} check "${out}.strace"
        DEPENDS ${target} "${expect}" ${TUTORIAL_RUNNER} ${TUTORIAL_TIMELINE}
        WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}"
        COMMENT "Tracing ${id}"
        VERBATIM)
      add_custom_target(trace.${chapter}.${name} DEPENDS "${out}.strace")
      add_dependencies(chapter-${chapter} trace.${chapter}.${name})
      set_property(GLOBAL APPEND PROPERTY TUTORIAL_OTHER_RUNS trace.${chapter}.${name})
    endif()
  endif()

  # Labels: the chapter; run (a checked run, logged for the verification
  # summary), args (bad arguments), standalone (the reader's build command).
  add_test(NAME example.${id}
    COMMAND ${run} --expect "${expect}" --out "${CMAKE_BINARY_DIR}/test-outputs/${id}"
            --log "${CMAKE_BINARY_DIR}/results.jsonl" --config ${TUTORIAL_CONFIG}
            -- ${launcher} $<TARGET_FILE:${target}> ${ex_ARGS}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}")
  set_tests_properties(example.${id} PROPERTIES LABELS "${chapter};run" TIMEOUT 300
                       ENVIRONMENT "${TUTORIAL_TEST_ENVIRONMENT}")
  if(ex_LAUNCHER)   # exit 77: the launcher could not run here (it says why)
    set_tests_properties(example.${id} PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED ${id} ")
  endif()
  if(ex_BENCHMARK)   # another test on the second CPU would distort what it measures
    set_tests_properties(example.${id} PROPERTIES RUN_SERIAL TRUE LABELS "${chapter};run;benchmark")
  endif()

  # The manifest entry that the Sphinx directive reads.
  set(entry "")
  foreach(pair IN ITEMS "id;${id}" "chapter;${chapter}" "name;${name}" "source;${src}"
                        "listing;${listing}"
                        "output;${out}" "build_command;${build_command}"
                        "run_command;${run_command}")
    list(GET pair 0 key)
    list(SUBLIST pair 1 -1 value)
    list(JOIN value ";" value)
    _tutorial_json_string(json_value "${value}")
    string(APPEND entry "\"${key}\": ${json_value}, ")
  endforeach()
  if(ex_RUN_OF)
    string(APPEND entry "\"run_of\": \"${chapter}/${program}\", ")
  endif()
  if(ex_TIMELINE)
    string(APPEND entry "\"trace\": \"${out}.strace\", ")
  endif()
  if(headers)   # [{"source": ..., "listing": ...}] for the directive and visibility.py
    set(headers_json "")
    foreach(header header_listing IN ZIP_LISTS headers header_listings)
      _tutorial_json_string(header_json "${header}")
      _tutorial_json_string(header_listing_json "${header_listing}")
      list(APPEND headers_json "{\"source\": ${header_json}, \"listing\": ${header_listing_json}}")
    endforeach()
    list(JOIN headers_json ", " headers_json)
    string(APPEND entry "\"headers\": [${headers_json}], ")
  endif()
  if(_tutorial_exercise_dir)   # what tools/check.py needs to check a reader's file
    _tutorial_json_string(starter "${_tutorial_exercise_dir}/starter.cpp")
    _tutorial_json_string(download "${CMAKE_BINARY_DIR}/starters/${chapter}/${name}.cpp")
    _tutorial_json_string(expect_json "${expect}")
    set(args_json "")
    foreach(arg IN LISTS ex_ARGS)
      _tutorial_json_string(arg_json "${arg}")
      list(APPEND args_json "${arg_json}")
    endforeach()
    list(JOIN args_json ", " args_json)
    string(APPEND entry "\"exercise\": {\"starter\": ${starter}, \"download\": ${download}, \"expect\": ${expect_json}, "
                        "\"args\": [${args_json}], \"timeout\": ${ex_TIMEOUT}}, ")
  endif()
  if(ex_THREADS)
    string(APPEND entry "\"threads\": true")
  else()
    string(APPEND entry "\"threads\": false")
  endif()
  set_property(GLOBAL APPEND_STRING PROPERTY TUTORIAL_MANIFEST "    {${entry}},\n")
  if(ex_RUN_OF)   # the rest belongs to the program, declared once with its source
    return()
  endif()

  add_test(NAME bad-arguments.${id}
    COMMAND ${run} --expect "${TUTORIAL_BAD_ARGS_EXPECT}"
            -- ${launcher} $<TARGET_FILE:${target}> --no-such-option
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}")
  if(ex_MPI AND TUTORIAL_SANITIZE STREQUAL "address")
    # LeakSanitizer reports Open MPI's own allocations (its plugins never free them).
    set_tests_properties(example.${id} bad-arguments.${id} PROPERTIES
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
  endif()
  set_tests_properties(bad-arguments.${id} PROPERTIES LABELS "${chapter};args" TIMEOUT 300)
  if(NOT TUTORIAL_SANITIZE)   # the standalone command has no sanitizer flags
    add_test(NAME standalone.${id}
      COMMAND ${TUTORIAL_PYTHON} ${PROJECT_SOURCE_DIR}/tools/standalone.py "${listing}" "${build_command}"
              ${header_listings})
    set_tests_properties(standalone.${id} PROPERTIES LABELS "${chapter};standalone")
  endif()

  # Each IPC call it makes, failing once (tests/fault/fault.py; label fault). Once per
  # program: not for a RUN_OF (under its launcher, strace, gdb or another host, the
  # shim would fail the launcher's calls), nor for MPI programs (under mpirun it fails
  # Open MPI's own shared-memory transport, which Open MPI survives by switching
  # transport: that judges Open MPI, not the listing, which makes no such call).
  if(chapter IN_LIST TUTORIAL_FAULT_CHAPTERS AND NOT TUTORIAL_SANITIZE
     AND NOT ex_MPI AND NOT ex_RUN_OF)
    add_test(NAME fault.${id}
      COMMAND ${TUTORIAL_PYTHON} ${TUTORIAL_FAULT_DRIVER} --shim $<TARGET_FILE:fault_shim>
              --timeout ${ex_TIMEOUT} -- $<TARGET_FILE:${target}> ${ex_ARGS}
      WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}")
    set_tests_properties(fault.${id} PROPERTIES LABELS "${chapter};fault" TIMEOUT 900
                         SKIP_RETURN_CODE 77)
    add_dependencies(chapter-${chapter} fault_shim)   # tests/fault/; CI's chapter jobs
  endif()

  if(ex_DOXYGEN)
    set_property(GLOBAL APPEND PROPERTY TUTORIAL_DOXYGEN_INPUTS "${src}" ${headers})
  endif()

  # The chapter's download: this example's lines in its standalone CMakeLists.txt.
  set(cmake_lines "add_executable(${name} ${name}.cpp)\n")
  if(ex_FLAGS)
    string(APPEND cmake_lines "target_compile_options(${name} PRIVATE ${ex_FLAGS})\n"
                              "target_link_options(${name} PRIVATE ${ex_FLAGS})\n")
  endif()
  set(link Threads::Threads ${ex_LIBS})
  if(ex_MPI)
    list(APPEND link MPI::MPI_CXX)
    set_property(GLOBAL PROPERTY TUTORIAL_ARCHIVE_MPI_${chapter} TRUE)
  endif()
  list(JOIN link " " link)
  string(APPEND cmake_lines "target_link_libraries(${name} PRIVATE ${link})\n")
  set_property(GLOBAL APPEND_STRING PROPERTY TUTORIAL_ARCHIVE_CMAKE_${chapter} "${cmake_lines}")
  set_property(GLOBAL APPEND PROPERTY TUTORIAL_ARCHIVE_SOURCES_${chapter} "${listing}" ${header_listings})

endfunction()

# Called once after every chapter is added: the manifest the docs read.
#   tutorial_finish([BENCHMARKS_AFTER target...])
# The captured figures of BENCHMARK examples are shown on the site, and a compiler on
# the other core would distort them. So they are captured last: after every program is
# built (and the BENCHMARKS_AFTER targets, e.g. the unit tests), after every other
# capture, one at a time (Ninja pool tutorial_benchmark).
function(tutorial_finish)
  cmake_parse_arguments(PARSE_ARGV 0 fin "" "" "BENCHMARKS_AFTER")
  get_property(benchmarks GLOBAL PROPERTY TUTORIAL_BENCHMARK_RUNS)
  get_property(others GLOBAL PROPERTY TUTORIAL_OTHER_RUNS)
  get_property(programs GLOBAL PROPERTY TUTORIAL_PROGRAMS)
  foreach(run IN LISTS benchmarks)
    add_dependencies(${run} ${programs} ${others} ${fin_BENCHMARKS_AFTER})
  endforeach()
  get_property(chapters GLOBAL PROPERTY TUTORIAL_CHAPTERS)
  list(TRANSFORM chapters PREPEND chapter- OUTPUT_VARIABLE chapter_targets)
  set(TUTORIAL_CHAPTER_TARGETS ${chapter_targets} PARENT_SCOPE)
  add_custom_target(examples)   # every chapter: build and capture, no site
  if(chapter_targets)
    add_dependencies(examples ${chapter_targets})
  endif()
  foreach(chapter IN LISTS chapters)
    _tutorial_chapter_archive(${chapter})
  endforeach()
  get_property(manifest GLOBAL PROPERTY TUTORIAL_MANIFEST)
  string(REGEX REPLACE ",\n$" "\n" manifest "${manifest}")
  file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/examples.json"
       CONTENT "{\"examples\": [\n${manifest}]}\n" @ONLY)
  # The mutants (tutorial_mutant) that `.. cpp-break-it::` shows.
  get_property(mutants GLOBAL PROPERTY TUTORIAL_MUTANT_MANIFEST)
  string(REGEX REPLACE ",\n$" "\n" mutants "${mutants}")
  file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/mutants.json"
       CONTENT "{\"mutants\": [\n${mutants}]}\n" @ONLY)
endfunction()

# build/archives/<chapter>.tar.gz: the chapter's examples and a CMakeLists.txt that
# builds them alone (linked from the chapter's page, tested by unpacking and building).
function(_tutorial_chapter_archive chapter)
  get_property(lines GLOBAL PROPERTY TUTORIAL_ARCHIVE_CMAKE_${chapter})
  get_property(sources GLOBAL PROPERTY TUTORIAL_ARCHIVE_SOURCES_${chapter})
  get_property(mpi GLOBAL PROPERTY TUTORIAL_ARCHIVE_MPI_${chapter})
  set(stage "${CMAKE_BINARY_DIR}/archive-stage/${chapter}")
  set(header "# Builds every example of chapter ${chapter} on its own:\n"
             "#   cmake -S . -B build && cmake --build build\n"
             "cmake_minimum_required(VERSION 3.16)\nproject(${chapter} LANGUAGES CXX)\n"
             "set(CMAKE_CXX_STANDARD 20)\nset(CMAKE_CXX_STANDARD_REQUIRED ON)\n"
             "set(CMAKE_CXX_EXTENSIONS OFF)\n"
             "add_compile_options(-O2 -Wall -Wextra -Wpedantic)\n"
             "find_package(Threads REQUIRED)\n")
  if(mpi)
    list(APPEND header "find_package(MPI REQUIRED COMPONENTS CXX)\n")
  endif()
  string(CONCAT content ${header} "\n" "${lines}")
  file(CONFIGURE OUTPUT "${stage}/CMakeLists.txt" CONTENT "${content}" @ONLY)
  set(archive "${CMAKE_BINARY_DIR}/archives/${chapter}.tar.gz")
  list(REMOVE_DUPLICATES sources)   # a header several programs include
  set(names "")
  foreach(src IN LISTS sources)
    get_filename_component(file "${src}" NAME)
    list(APPEND names "${chapter}/${file}")
  endforeach()
  add_custom_command(OUTPUT "${archive}"
    COMMAND ${CMAKE_COMMAND} -E copy ${sources} "${stage}/"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/archives"
    COMMAND ${CMAKE_COMMAND} -E tar czf "${archive}" --format=gnutar --mtime=2026-01-01
            -- "${chapter}/CMakeLists.txt" ${names}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/archive-stage"
    DEPENDS ${sources} "${stage}/CMakeLists.txt"
    COMMENT "Archive ${chapter}.tar.gz"
    VERBATIM)
  add_custom_target(archive-${chapter} DEPENDS "${archive}")
  get_property(listings GLOBAL PROPERTY TUTORIAL_LISTING_TARGETS_${chapter})
  add_dependencies(archive-${chapter} ${listings})
  add_dependencies(chapter-${chapter} archive-${chapter})
  set_property(GLOBAL APPEND PROPERTY TUTORIAL_ARCHIVE_TARGETS archive-${chapter})
  add_test(NAME archive.${chapter}
    COMMAND ${CMAKE_COMMAND} -DARCHIVE=${archive} -DCHAPTER=${chapter}
            -P "${PROJECT_SOURCE_DIR}/cmake/TestArchive.cmake")
  set_tests_properties(archive.${chapter} PROPERTIES LABELS "${chapter};archive" TIMEOUT 900)
endfunction()

# tutorial_mutant(EXAMPLE MUTANT): "break it" — the same EXAMPLE.cpp compiled again with
# -DBREAK_<MUTANT> (upper case), which swaps the line(s) inside its
# `#ifdef BREAK_<MUTANT>` / `#ifndef BREAK_<MUTANT>` block. Declared after
# tutorial_example(EXAMPLE) in the same chapter. From it derive: the executable
# bin/<chapter>/EXAMPLE-MUTANT, its captured run (outputs/<chapter>/EXAMPLE.MUTANT.txt/.json,
# checked against EXAMPLE.MUTANT.expect, which must prove the breakage), the test
# mutant.<chapter>/EXAMPLE.MUTANT (labels: the chapter, run, mutant), and an entry in
# mutants.json for `.. cpp-break-it:: <chapter>/EXAMPLE` with `:mutant: MUTANT`.
# A mutant may crash or exit non-zero (its .expect says so); one that would hang is
# bounded by the program itself (an alarm in its #ifdef block). No fault runs, no bad
# arguments, no standalone build, and none under the sanitizers: a mutant is broken
# on purpose, often by undefined behaviour, which a sanitizer would rightly stop.
function(tutorial_mutant example mutant)
  if(ARGN)
    message(FATAL_ERROR "tutorial_mutant(${example} ${mutant}): unknown arguments: ${ARGN}")
  endif()
  if(NOT mutant MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "tutorial_mutant(${example} ${mutant}): a mutant's name is [a-z0-9_]+")
  endif()
  get_filename_component(chapter "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  set(program "${chapter}.${example}")
  if(TUTORIAL_SANITIZE)
    return()
  endif()
  if(NOT TARGET ${program})
    message(FATAL_ERROR "tutorial_mutant(${example} ${mutant}): no program ${example} "
                        "declared before it in ${chapter}")
  endif()
  string(TOUPPER "BREAK_${mutant}" macro)
  set(id "${chapter}/${example}")
  set(src "${CMAKE_CURRENT_SOURCE_DIR}/${example}.cpp")
  set(expect "${CMAKE_CURRENT_SOURCE_DIR}/${example}.${mutant}.expect")
  if(NOT EXISTS "${expect}")
    message(FATAL_ERROR "tutorial_mutant(${example} ${mutant}): ${expect} does not exist")
  endif()
  file(READ "${src}" text)
  if(NOT text MATCHES "#[ \t]*if(n?def)?[ \t]+[^\n]*${macro}")
    message(FATAL_ERROR "tutorial_mutant(${example} ${mutant}): ${example}.cpp has no "
                        "#ifdef ${macro} / #ifndef ${macro} block")
  endif()

  # The same source, flags and libraries as the program, plus -D<macro>.
  set(target "${program}.${mutant}")
  add_executable(${target} "${src}")
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${example}-${mutant}
    RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}")
  foreach(property IN ITEMS COMPILE_OPTIONS LINK_OPTIONS LINK_LIBRARIES INCLUDE_DIRECTORIES)
    get_target_property(value ${program} ${property})
    if(value)
      set_property(TARGET ${target} PROPERTY ${property} "${value}")
    endif()
  endforeach()
  target_compile_definitions(${target} PRIVATE ${macro})
  set_property(GLOBAL APPEND PROPERTY TUTORIAL_PROGRAMS ${target})   # built before any benchmark
  get_target_property(build_command ${program} TUTORIAL_BUILD_COMMAND)
  get_target_property(launcher ${program} TUTORIAL_LAUNCHER)
  get_target_property(args ${program} TUTORIAL_ARGS)
  get_target_property(timeout ${program} TUTORIAL_TIMEOUT)
  if(NOT args)
    set(args "")
  endif()
  # What the reader types: the program's command with -D<macro> before the source.
  string(REPLACE " ${example}.cpp -o ${example}" " -D${macro} ${example}.cpp -o ${example}-${mutant}"
         build_command "${build_command}")
  string(JOIN " " run_command ${launcher} ./${example}-${mutant} ${args})

  set(out "${CMAKE_BINARY_DIR}/outputs/${chapter}/${example}.${mutant}")
  set(run ${TUTORIAL_PYTHON} ${TUTORIAL_RUNNER} --name ${id}.${mutant} --timeout ${timeout}
          --compiler "${TUTORIAL_COMPILER}")
  if(TUTORIAL_RUN_EXAMPLES)
    add_custom_command(OUTPUT "${out}.txt" "${out}.json"
      COMMAND ${run} --expect "${expect}" --out "${out}" -- ${launcher} $<TARGET_FILE:${target}> ${args}
      DEPENDS ${target} "${expect}" ${TUTORIAL_RUNNER} ${PROJECT_SOURCE_DIR}/tools/expect.py
      WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}"
      COMMENT "Running ${id} broken: ${mutant}"
      VERBATIM)
    add_custom_target(run.${chapter}.${example}.${mutant} DEPENDS "${out}.txt" "${out}.json")
    add_dependencies(chapter-${chapter} run.${chapter}.${example}.${mutant})
    set_property(GLOBAL APPEND PROPERTY TUTORIAL_OTHER_RUNS run.${chapter}.${example}.${mutant})
  endif()
  add_test(NAME mutant.${id}.${mutant}
    COMMAND ${run} --expect "${expect}" --out "${CMAKE_BINARY_DIR}/test-outputs/${id}.${mutant}"
            -- ${launcher} $<TARGET_FILE:${target}> ${args}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/bin/${chapter}")
  set_tests_properties(mutant.${id}.${mutant} PROPERTIES LABELS "${chapter};run;mutant" TIMEOUT 300)   # tools/test.sh runs -L run

  set(entry "")
  foreach(pair IN ITEMS "id;${id}" "mutant;${mutant}" "macro;${macro}" "output;${out}"
                        "build_command;${build_command}" "run_command;${run_command}")
    list(GET pair 0 key)
    list(SUBLIST pair 1 -1 value)
    list(JOIN value ";" value)
    _tutorial_json_string(json_value "${value}")
    string(APPEND entry "\"${key}\": ${json_value}, ")
  endforeach()
  string(REGEX REPLACE ", $" "" entry "${entry}")
  set_property(GLOBAL APPEND_STRING PROPERTY TUTORIAL_MUTANT_MANIFEST "    {${entry}},\n")
endfunction()

# tutorial_exercise(NAME [tutorial_example options...]): an exercise in
# examples/<chapter>/exercises/NAME/: starter.cpp (what the reader starts from: it
# compiles, it does not solve the task), solution.cpp (the reference) and NAME.expect.
# The reference is an example like any other (id <chapter>/NAME: built, run, captured,
# tested); the starter is compiled with the same flags; the manifest entry gets an
# "exercise" object (starter, expect, args, timeout) that tools/check.py and the page's
# `.. cpp-exercise::` read.
function(tutorial_exercise name)
  set(_tutorial_exercise_dir "${CMAKE_CURRENT_SOURCE_DIR}/exercises/${name}")
  if(NOT EXISTS "${_tutorial_exercise_dir}/starter.cpp")
    message(FATAL_ERROR "tutorial_exercise(${name}): ${_tutorial_exercise_dir}/starter.cpp does not exist")
  endif()
  tutorial_example(${name} ${ARGN})
  get_filename_component(chapter "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  set(id "${chapter}/${name}")
  if(NOT TARGET ${chapter}.${name})   # not built in this configuration (TSan)
    return()
  endif()
  # The starter as the reader downloads it: named as the page's build command says.
  configure_file("${_tutorial_exercise_dir}/starter.cpp"
                 "${CMAKE_BINARY_DIR}/starters/${chapter}/${name}.cpp" COPYONLY)
  set(starter ${chapter}.${name}.starter)
  add_executable(${starter} "${_tutorial_exercise_dir}/starter.cpp")
  set_target_properties(${starter} PROPERTIES OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/starters/${chapter}")
  get_target_property(options ${chapter}.${name} COMPILE_OPTIONS)
  get_target_property(link_options ${chapter}.${name} LINK_OPTIONS)
  get_target_property(libs ${chapter}.${name} LINK_LIBRARIES)
  target_compile_options(${starter} PRIVATE ${options})
  target_link_options(${starter} PRIVATE ${link_options})
  if(libs)
    target_link_libraries(${starter} PRIVATE ${libs})
  endif()
  add_dependencies(chapter-${chapter} ${starter})

  # The checker, tested on this exercise (label exercise): the reference is accepted,
  # the starter is not, and each deliberately wrong solution in
  # tests/exercises/<chapter>/NAME/wrong_*.cpp is rejected for the reason that its
  # wrong_*.expect names (the checker's exit status and output, matched by the runner).
  if(TUTORIAL_SANITIZE)   # the checker makes its own sanitizer build
    return()
  endif()
  set(wrongs_dir "${PROJECT_SOURCE_DIR}/tests/exercises/${chapter}/${name}")
  file(GLOB wrongs "${wrongs_dir}/wrong_*.cpp")
  if(NOT wrongs)
    message(FATAL_ERROR "tutorial_exercise(${name}): no deliberately wrong solution "
                        "${wrongs_dir}/wrong_*.cpp to show that the checker rejects it")
  endif()
  set(cases "reference;${_tutorial_exercise_dir}/solution.cpp;${TUTORIAL_EXERCISE_ACCEPTED}"
            "starter;${_tutorial_exercise_dir}/starter.cpp;${TUTORIAL_EXERCISE_REJECTED}")
  foreach(wrong IN LISTS wrongs)
    get_filename_component(case "${wrong}" NAME_WE)
    string(REGEX REPLACE "[.]cpp$" ".expect" wrong_expect "${wrong}")
    list(APPEND cases "${case};${wrong};${wrong_expect}")
  endforeach()
  list(LENGTH cases n)   # triples: case, file, the checker's expected output
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 3)
    math(EXPR j "${i} + 1")
    math(EXPR k "${i} + 2")
    list(GET cases ${i} case)
    list(GET cases ${j} file)
    list(GET cases ${k} case_expect)
    add_test(NAME exercise.${id}.${case}
      COMMAND ${TUTORIAL_PYTHON} ${TUTORIAL_RUNNER} --expect "${case_expect}" --timeout 900
              -- ${TUTORIAL_PYTHON} ${PROJECT_SOURCE_DIR}/tools/check.py
                 --build "${CMAKE_BINARY_DIR}" ${id} "${file}")
    set_tests_properties(exercise.${id}.${case} PROPERTIES LABELS "exercise" TIMEOUT 1200)
  endforeach()
endfunction()
