# The site: Doxygen XML, fixed furo files, Sphinx in both languages, a root page.
set(SITE "${CMAKE_BINARY_DIR}/site")
set(SPHINX_BUILD /usr/bin/sphinx-build)
set(LANGUAGES en zh_CN)

# Doxygen over the examples that pages render with Breathe.
get_property(DOXYGEN_SOURCES GLOBAL PROPERTY TUTORIAL_DOXYGEN_INPUTS)
set(DOXYGEN_OUT "${CMAKE_BINARY_DIR}/doxygen")
set(doxygen_stamp "${DOXYGEN_OUT}/xml/index.xml")
if(DOXYGEN_SOURCES)
  find_program(DOXYGEN doxygen REQUIRED)
  list(JOIN DOXYGEN_SOURCES " " DOXYGEN_INPUT)
  configure_file(cmake/Doxyfile.in "${DOXYGEN_OUT}/Doxyfile" @ONLY)
  add_custom_command(OUTPUT "${doxygen_stamp}"
    COMMAND ${DOXYGEN} "${DOXYGEN_OUT}/Doxyfile"
    DEPENDS ${DOXYGEN_SOURCES} "${DOXYGEN_OUT}/Doxyfile"
    COMMENT "Doxygen: XML for ${DOXYGEN_INPUT}")
else()
  set(doxygen_stamp "")
endif()

set(furo_static "${CMAKE_BINARY_DIR}/furo-static")
add_custom_command(OUTPUT "${furo_static}/scripts/furo.js" "${furo_static}/styles/furo.css"
  COMMAND ${TUTORIAL_PYTHON} "${PROJECT_SOURCE_DIR}/tools/furo_fix.py" "${furo_static}"
  DEPENDS "${PROJECT_SOURCE_DIR}/tools/furo_fix.py"
  COMMENT "Fixing Debian furo's static files")
add_custom_target(docs-inputs DEPENDS ${doxygen_stamp}
  "${furo_static}/scripts/furo.js" "${furo_static}/styles/furo.css")
get_property(archive_targets GLOBAL PROPERTY TUTORIAL_ARCHIVE_TARGETS)
if(TUTORIAL_CHAPTER_TARGETS)
  add_dependencies(docs-inputs ${TUTORIAL_CHAPTER_TARGETS} ${archive_targets})
endif()

# Sphinx decides itself which pages are out of date, so these targets always run.
# -W --keep-going: any warning (broken reference, missing output) fails the build.
set(sphinx_env ${CMAKE_COMMAND} -E env TUTORIAL_BUILD_DIR=${CMAKE_BINARY_DIR})
foreach(lang IN LISTS LANGUAGES)
  add_custom_target(docs-${lang}
    COMMAND ${sphinx_env} ${SPHINX_BUILD} -b html -W --keep-going -q -j 1
            -D language=${lang} -c "${PROJECT_SOURCE_DIR}"
            -d "${CMAKE_BINARY_DIR}/doctrees/${lang}"
            "${PROJECT_SOURCE_DIR}/docs" "${SITE}/${lang}"
    DEPENDS docs-inputs
    COMMENT "Sphinx: site/${lang}"
    VERBATIM)
  list(APPEND docs_targets docs-${lang})
endforeach()
add_custom_target(site ALL
  COMMAND ${CMAKE_COMMAND} -E copy "${PROJECT_SOURCE_DIR}/docs/_root/index.html" "${SITE}/index.html"
  COMMAND ${CMAKE_COMMAND} -E echo "Site: ${SITE}/index.html"
  DEPENDS ${docs_targets}
  VERBATIM)

add_custom_target(update-translations
  COMMAND ${sphinx_env} ${TUTORIAL_PYTHON} "${PROJECT_SOURCE_DIR}/tools/i18n.py" update
  DEPENDS docs-inputs
  COMMENT "Updating docs/locales/zh_CN from the English pages"
  VERBATIM)
