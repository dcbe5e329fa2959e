# Installs the SDK: othrun, its libraries, the public headers, the plugins and a CMake package with
# othrun_add_plugin(), so a plugin outside this repository builds with find_package(othrun).
# Every library whose headers are installed is exported, as the name plugins in this tree use:
#   othrun::core           always
#   othrun::analysis       always (statistics, SAEs, probes, product readers)
#   othrun::gpt            always (Othello-GPT checkpoints and configs, LibTorch-free)
#   othrun::torch          with LibTorch (Othello-GPT forward; its headers are LibTorch-free)
#   othrun::torch_bridge   with LibTorch (othrun/torch_bridge.hpp: HostTensor <-> at::Tensor)
#   othrun::train          with LibTorch (training; gpt.hpp and optim.hpp include ATen)
include(CMakePackageConfigHelpers)

set(OTHRUN_EXPORTED_TARGETS othrun_core othrun_analysis othrun_gpt)
set(OTHRUN_EXPORTS_TORCH OFF)
if(TARGET othrun_torch)
  list(APPEND OTHRUN_EXPORTED_TARGETS othrun_torch othrun_torch_bridge)
  set(OTHRUN_EXPORTS_TORCH ON)
endif()
if(TARGET othrun_train)
  list(APPEND OTHRUN_EXPORTED_TARGETS othrun_train)
endif()
foreach(target IN LISTS OTHRUN_EXPORTED_TARGETS)
  string(REGEX REPLACE "^othrun_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  # The installed libraries find each other in their own folder (libothrun_train needs
  # libothrun_torch even when a plugin that links both uses only libothrun_gpt and the linker drops
  # libothrun_torch from the plugin's own dependencies).
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "SHARED_LIBRARY")
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
endforeach()

install(TARGETS ${OTHRUN_EXPORTED_TARGETS} EXPORT othrunTargets
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
