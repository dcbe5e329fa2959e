# plotly.min.js, inlined into every HTML report (docs/report.md). scripts/setup.sh installs the
# pinned version from the npm registry into third_party/; point OTHRUN_PLOTLY_JS elsewhere to use
# another copy. Without it othrun still builds and writes reports, whose plots then show a note.
set(OTHRUN_PLOTLY_VERSION 2.35.3)
set(OTHRUN_PLOTLY_JS
  "${PROJECT_SOURCE_DIR}/third_party/node_modules/plotly.js-dist-min/plotly.min.js"
  CACHE FILEPATH "plotly.min.js inlined into othrun reports")

if(EXISTS "${OTHRUN_PLOTLY_JS}")
  message(STATUS "othrun: plotly.js for reports: ${OTHRUN_PLOTLY_JS}")
  # The installed othrun finds it at <prefix>/share/othrun/plotly.min.js.
  install(FILES "${OTHRUN_PLOTLY_JS}" DESTINATION ${CMAKE_INSTALL_DATADIR}/othrun)
else()
  message(STATUS "othrun: plotly.js not found (${OTHRUN_PLOTLY_JS}); reports will show their "
                 "figures only after scripts/setup.sh installs it")
endif()
