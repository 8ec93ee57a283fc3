# Install the exported targets and a package config so that outside projects
# can `find_package(thor)` against the build tree or an install prefix.
include(CMakePackageConfigHelpers)
set(THOR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/thor)

install(EXPORT thorTargets NAMESPACE thor:: DESTINATION ${THOR_CMAKE_DIR})
export(EXPORT thorTargets NAMESPACE thor:: FILE ${PROJECT_BINARY_DIR}/thorTargets.cmake)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/thorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/thorConfig.cmake INSTALL_DESTINATION ${THOR_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/thorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/thorConfig.cmake ${PROJECT_BINARY_DIR}/thorConfigVersion.cmake
  DESTINATION ${THOR_CMAKE_DIR})
