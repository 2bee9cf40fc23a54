# The file-format dataset plugins (hh, hh_harmless, tldr, ultrachat, alpaca) through the
# registry, on fixture files the tests write (gzip via zlib); and the shipped configs of the
# original experiments (configs/{dataset,model,experiment}), composed, their datasets opened
# and `ram config` run on each.
find_package(ZLIB REQUIRED)
set(_ram_dataset_plugins ram_dataset_hh ram_dataset_hh_harmless ram_dataset_tldr ram_dataset_ultrachat
    ram_dataset_alpaca)
ram_add_test(NAME test_datasets SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_datasets.cpp LABELS unit
             LIBRARIES ZLIB::ZLIB)
add_dependencies(test_datasets ${_ram_dataset_plugins})
ram_add_test(NAME test_dataset_configs SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dataset_configs.cpp LABELS unit)
add_dependencies(test_dataset_configs ${_ram_dataset_plugins})
if(TARGET ram)
  add_dependencies(test_dataset_configs ram)
endif()
