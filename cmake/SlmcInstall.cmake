# The SDK install: headers, the runtime as a shared library, slmc/slm-run/slmc-plugin-test, and a CMake package
# (find_package(slmc)) exporting slmc::slm_runtime (embed the runtime) and slmc::plugin_api (write a plugin).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The runtime as one shared library for applications: the whole static runtime (with its kernels) inside.
add_library(slm_runtime_shared SHARED ${PROJECT_SOURCE_DIR}/runtime/core/shared_library.c)
target_link_libraries(slm_runtime_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,slm_runtime>")
target_include_directories(slm_runtime_shared INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/runtime/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(slm_runtime_shared PROPERTIES OUTPUT_NAME slm_runtime EXPORT_NAME slm_runtime
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})

# Header-only: everything a plugin needs is the C ABI in slmc/*.h (no slmc library to link).
add_library(slmc_plugin_api INTERFACE)
target_include_directories(slmc_plugin_api INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/plugins/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(slmc_plugin_api PROPERTIES EXPORT_NAME plugin_api)

install(TARGETS slm_runtime_shared slmc_plugin_api EXPORT slmcTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/runtime/include/slm_runtime.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugins/include/slmc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
set(SLMC_INSTALLED_TOOLS slm-run slmc-plugin-test)
if(SLMC_BUILD_COMPILER)
  list(APPEND SLMC_INSTALLED_TOOLS slmc)
  # The installed slmc still finds Debian's LLVM/MLIR shared libraries (/usr/lib/llvm-19/lib).
  set_target_properties(slmc PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
endif()
install(TARGETS ${SLMC_INSTALLED_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT slmcTargets NAMESPACE slmc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/slmc)
# The config states the plugin API version the installed headers describe.
file(STRINGS ${PROJECT_SOURCE_DIR}/plugins/include/slmc/plugin.h SLMC_PLUGIN_API_VERSION_LINE
  REGEX "^#define SLMC_PLUGIN_API_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" SLMC_PLUGIN_API_VERSION "${SLMC_PLUGIN_API_VERSION_LINE}")
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/slmcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/slmcConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/slmc
  PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/slmcConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/slmcConfig.cmake ${PROJECT_BINARY_DIR}/slmcConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/slmc)
