# Installs and exports the CMake package: find_package(ram) gives ram::api, ram::runtime
# and ram_add_plugin() to out-of-tree plugin builds (see examples/).
include(CMakePackageConfigHelpers)
set(RAM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ram)
install(EXPORT ramTargets NAMESPACE ram:: DESTINATION ${RAM_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ramConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ramConfig.cmake INSTALL_DESTINATION ${RAM_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ramConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ramConfig.cmake ${PROJECT_BINARY_DIR}/ramConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/RamPlugin.cmake DESTINATION ${RAM_CMAKE_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ram/configs)
