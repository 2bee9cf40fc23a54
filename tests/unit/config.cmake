# Config: the strict view, composition, the shipped configs/ and the `ram config` verb.
ram_add_test(NAME test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config.cpp LABELS unit)
# The CLI tests run bin/ram.
if(TARGET ram)
  add_dependencies(test_config ram)
endif()
