# ctest archive.<chapter>: unpack the chapter's download into an empty directory
# and build it with its own CMakeLists.txt, as a reader would.
#   cmake -DARCHIVE=<file.tar.gz> -DCHAPTER=<name> -P TestArchive.cmake
if(NOT EXISTS "${ARCHIVE}")
  message(FATAL_ERROR "${ARCHIVE} is missing: build the 'archive-${CHAPTER}' target first")
endif()
string(RANDOM LENGTH 8 suffix)
set(work "/tmp/archive-test-${CHAPTER}-${suffix}")
file(MAKE_DIRECTORY "${work}")
file(ARCHIVE_EXTRACT INPUT "${ARCHIVE}" DESTINATION "${work}")
execute_process(COMMAND ${CMAKE_COMMAND} -S "${work}/${CHAPTER}" -B "${work}/build" -G Ninja
                RESULT_VARIABLE configured)
if(configured EQUAL 0)
  execute_process(COMMAND ${CMAKE_COMMAND} --build "${work}/build" -j 2 RESULT_VARIABLE built)
endif()
file(REMOVE_RECURSE "${work}")
if(NOT configured EQUAL 0 OR NOT built EQUAL 0)
  message(FATAL_ERROR "the ${CHAPTER} archive does not build on its own")
endif()
message(STATUS "${CHAPTER}.tar.gz unpacks and builds on its own")
