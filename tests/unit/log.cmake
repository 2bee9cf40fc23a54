ram_add_test(NAME test_log SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_log.cpp LABELS unit)
ram_add_test(NAME test_log_mpi SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_log.cpp MPI_SIZE 2 LABELS mpi)
