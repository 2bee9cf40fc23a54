# The first real plugins, tested as the runtime uses them: loaded through the registry from
# the build's plugin directory (RAM_PLUGIN_PATH).
ram_add_test(NAME test_jsonl SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_jsonl.cpp LABELS unit)
add_dependencies(test_jsonl ram_dataset_jsonl)

# Compares with tests/python/sft_reference.py (torch), run live.
ram_add_test(NAME test_sft SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sft.cpp LABELS unit
             LIBRARIES nlohmann_json::nlohmann_json)
add_dependencies(test_sft ram_objective_sft)
