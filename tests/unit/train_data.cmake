# train/data: synth.h5 and dataset sources, tokenization and truncation (checked live against
# tests/python/train_data_reference.py), batches, the split and the epoch orders.
ram_add_test(NAME test_train_data SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_train_data.cpp
             LABELS unit LIBRARIES nlohmann_json::nlohmann_json)
add_dependencies(test_train_data ram_dataset_jsonl)
