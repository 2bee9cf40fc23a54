# ram::sample pieces on one rank: part-file names, part round trip and damage detection, the
# settings hash (what it covers and what it ignores), config checks.
ram_add_test(NAME test_sample SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sample.cpp LABELS unit)
