# Registry tests, with deliberately broken plugins built into their own directory so the
# real plugin directory stays clean.
set(RAM_BROKEN_PLUGIN_DIR ${PROJECT_BINARY_DIR}/test-plugins)
function(ram_broken_plugin file abi build_id kind name)
  add_library(${file} MODULE ${CMAKE_CURRENT_LIST_DIR}/fixtures/plugins/broken_plugin.cpp)
  target_link_libraries(${file} PRIVATE ram::api)
  set_target_properties(${file} PROPERTIES PREFIX "" OUTPUT_NAME ${file}
    LIBRARY_OUTPUT_DIRECTORY ${RAM_BROKEN_PLUGIN_DIR} CXX_VISIBILITY_PRESET hidden)
  target_compile_definitions(${file} PRIVATE FIXTURE_ABI=${abi} FIXTURE_BUILD_ID=${build_id}
    FIXTURE_KIND=ram::PluginKind::${kind} FIXTURE_NAME="${name}")
endfunction()
ram_broken_plugin(libram_dataset_bad_abi 999 RAM_BUILD_ID dataset bad_abi)
ram_broken_plugin(libram_dataset_bad_build "ram::kAbiVersion" "\"ram 0.0.0 torch 0.1\"" dataset bad_build)
ram_broken_plugin(libram_dataset_liar "ram::kAbiVersion" RAM_BUILD_ID objective liar)

ram_add_test(NAME test_plugin SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_plugin.cpp LABELS unit)
add_dependencies(test_plugin libram_dataset_bad_abi libram_dataset_bad_build libram_dataset_liar ram)
target_compile_definitions(test_plugin PRIVATE RAM_BROKEN_PLUGIN_DIR="${RAM_BROKEN_PLUGIN_DIR}")
