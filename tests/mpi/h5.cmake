# ram::h5 on two ranks: one file written collectively, read back by h5py and by our Reader.
ram_add_test(NAME test_h5_parallel SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_h5_parallel.cpp
  LIBRARIES nlohmann_json::nlohmann_json MPI_SIZE 2 LABELS mpi TIMEOUT 120)
