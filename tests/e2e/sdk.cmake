# The plugin SDK as users consume it (ADIOS2/Ginkgo style): install the framework, build
# examples/dataset_plugin out of tree with find_package(ram) alone, then the installed
# `ram plugins` (on 2 ranks) must list it and `ram prepare` must read data from it.
set(RAM_SDK_PREFIX ${PROJECT_BINARY_DIR}/sdk-install)
set(RAM_SDK_EXAMPLE ${PROJECT_BINARY_DIR}/sdk-example)
add_test(NAME sdk_install
  COMMAND ${CMAKE_COMMAND} --install ${PROJECT_BINARY_DIR} --prefix ${RAM_SDK_PREFIX})
add_test(NAME sdk_example_build
  COMMAND ${CMAKE_COMMAND} -E env --unset=RAM_PLUGIN_PATH
          ${CMAKE_CURRENT_LIST_DIR}/sdk_example_build.sh ${PROJECT_SOURCE_DIR}/examples/dataset_plugin
          ${RAM_SDK_EXAMPLE} ${RAM_SDK_PREFIX})
add_test(NAME sdk_example_load
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/sdk_example_load.sh ${RAM_SDK_PREFIX} ${RAM_SDK_EXAMPLE}/plugins)
set_tests_properties(sdk_install PROPERTIES FIXTURES_SETUP ram_sdk LABELS e2e)
set_tests_properties(sdk_example_build PROPERTIES FIXTURES_REQUIRED ram_sdk
  FIXTURES_SETUP ram_sdk_example LABELS e2e TIMEOUT 300)
set_tests_properties(sdk_example_load PROPERTIES FIXTURES_REQUIRED "ram_sdk;ram_sdk_example"
  ENVIRONMENT "${RAM_TEST_ENV}" LABELS e2e PROCESSORS 2 TIMEOUT 120)
