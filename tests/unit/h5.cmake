# ram::h5 on one rank: round trips, atomic finalize, truncated/corrupt files, h5py, CLI.
ram_add_test(NAME test_h5 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_h5.cpp LABELS unit)
add_dependencies(test_h5 ram)  # H5Cli.* runs `ram inspect`
