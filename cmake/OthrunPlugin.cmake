# othrun_add_plugin(NAME SOURCES file... [LIBRARIES target...] [CUDA] [NO_INSTALL])
#
# Builds plugin NAME as a loadable module `NAME.so` from an object library `NAME_obj` that tests may
# link too (build once, test what ships). The same function is installed with the SDK, so a plugin
# outside this repository is `find_package(othrun)` plus one call of it.
#   CUDA: the plugin needs a CUDA compiler; without one it is skipped with a message.
#   NO_INSTALL: build only (plugins that exist for tests).
# Plugins build with hidden visibility (only the entry point is exported) and link with -z defs
# (every symbol must come from a linked library: add each othrun:: library the code calls).
function(othrun_add_plugin NAME)
  cmake_parse_arguments(ARG "CUDA;NO_INSTALL" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "othrun_add_plugin(${NAME}): SOURCES is required")
  endif()
  if(ARG_CUDA AND NOT CMAKE_CUDA_COMPILER)
    message(STATUS "othrun: skipping plugin '${NAME}': no CUDA compiler found")
    return()
  endif()

  # Hidden visibility: the library exports its entry point (OTHRUN_PLUGIN marks it "default")
  # and nothing else, so two plugins never interpose each other's symbols.
  add_library(${NAME}_obj OBJECT ${ARG_SOURCES})
  target_link_libraries(${NAME}_obj PUBLIC othrun::core ${ARG_LIBRARIES})
  set_target_properties(${NAME}_obj PROPERTIES POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)

  add_library(${NAME} MODULE)
  target_link_libraries(${NAME} PRIVATE ${NAME}_obj)
  # -z defs: a symbol no linked library provides is a link error here, not a load error later.
  # The version script keeps even the standard library's default-visibility template instances
  # (std::mt19937_64 members, typeinfo of std:: types) out of the dynamic symbol table.
  set(exports ${CMAKE_BINARY_DIR}/othrun_plugin_exports.map)
  if(NOT EXISTS ${exports})
    file(WRITE ${exports} "{\n  global: othrun_plugin_info;\n  local: *;\n};\n")
  endif()
  target_link_options(${NAME} PRIVATE "LINKER:-z,defs" "LINKER:--version-script=${exports}")
  set_property(TARGET ${NAME} APPEND PROPERTY LINK_DEPENDS ${exports})
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
    INSTALL_RPATH "$ORIGIN/../.."
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${NAME} LIBRARY DESTINATION ${OTHRUN_PLUGIN_INSTALL_DIR})
  endif()

  if(TARGET othrun AND OTHRUN_BUILD_TESTS)
    add_test(NAME describe.${NAME} COMMAND othrun --plugin-path ${out_dir} --describe ${NAME})
  endif()
endfunction()
