# Installs the SDK: othrun, libothrun, the public headers, the plugins and a CMake package with
# othrun_add_plugin(), so a plugin outside this repository builds with find_package(othrun).
include(CMakePackageConfigHelpers)

install(TARGETS othrun_core EXPORT othrunTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/framework/include/othrun
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(OTHRUN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/othrun)
install(EXPORT othrunTargets NAMESPACE othrun:: DESTINATION ${OTHRUN_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/othrunConfig.cmake.in
  ${PROJECT_BINARY_DIR}/othrunConfig.cmake INSTALL_DESTINATION ${OTHRUN_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/othrunConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/othrunConfig.cmake
  ${PROJECT_BINARY_DIR}/othrunConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/OthrunPlugin.cmake
  DESTINATION ${OTHRUN_CMAKE_DIR})
