# othrun_add_plugin(NAME SOURCES file... [LIBRARIES target...] [CUDA])
#
# Builds plugin NAME as a loadable module `NAME.so` from an object library `NAME_obj` that tests may
# link too (build once, test what ships). The same function is installed with the SDK, so a plugin
# outside this repository is `find_package(othrun)` plus one call of it.
#   CUDA: the plugin needs a CUDA compiler; without one it is skipped with a message.
function(othrun_add_plugin NAME)
  cmake_parse_arguments(ARG "CUDA" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "othrun_add_plugin(${NAME}): SOURCES is required")
  endif()
  if(ARG_CUDA AND NOT CMAKE_CUDA_COMPILER)
    message(STATUS "othrun: skipping plugin '${NAME}': no CUDA compiler found")
    return()
  endif()

  add_library(${NAME}_obj OBJECT ${ARG_SOURCES})
  target_link_libraries(${NAME}_obj PUBLIC othrun::core ${ARG_LIBRARIES})
  set_target_properties(${NAME}_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)

  add_library(${NAME} MODULE)
  target_link_libraries(${NAME} PRIVATE ${NAME}_obj)
  if(DEFINED OTHRUN_BUILD_PLUGIN_DIR)
    set(out_dir ${OTHRUN_BUILD_PLUGIN_DIR})
  else()
    set(out_dir ${CMAKE_BINARY_DIR}/plugins)
  endif()
  if(NOT DEFINED OTHRUN_PLUGIN_INSTALL_DIR)
    include(GNUInstallDirs)
    set(OTHRUN_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/othrun/plugins)
  endif()
  # The library file is exactly NAME.so: one name in the folder, the YAML and the file system.
  set_target_properties(${NAME} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${NAME}
    LIBRARY_OUTPUT_DIRECTORY ${out_dir}
    INSTALL_RPATH "$ORIGIN/../..")
  install(TARGETS ${NAME} LIBRARY DESTINATION ${OTHRUN_PLUGIN_INSTALL_DIR})

  if(TARGET othrun AND OTHRUN_BUILD_TESTS)
    add_test(NAME describe.${NAME} COMMAND othrun --plugin-path ${out_dir} --describe ${NAME})
  endif()
endfunction()
