# find_package(edaos) config package and a pkg-config file.
include(CMakePackageConfigHelpers)
set(EDAOS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/edaos)
if(TARGET edaos_objstore OR TARGET edaos_hints)
  install(EXPORT edaosTargets NAMESPACE edaos:: DESTINATION ${EDAOS_CMAKE_DIR})
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/edaosConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/edaosConfig.cmake INSTALL_DESTINATION ${EDAOS_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/edaosConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/edaosConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/edaosConfigVersion.cmake DESTINATION ${EDAOS_CMAKE_DIR})
configure_file(${CMAKE_CURRENT_LIST_DIR}/edaos.pc.in ${CMAKE_CURRENT_BINARY_DIR}/edaos.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/edaos.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
