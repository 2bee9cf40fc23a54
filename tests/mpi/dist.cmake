# ram::dist on one rank (MPI singleton) and on two ranks: the same assertions hold.
ram_add_test(NAME test_dist SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dist.cpp LABELS unit)
ram_add_test(NAME test_dist_mpi SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dist.cpp MPI_SIZE 2 LABELS mpi)
ram_add_test(NAME test_dist_mpi3 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dist.cpp MPI_SIZE 3 LABELS mpi)

# A rank that throws while its peer waits in a collective ends the whole job with one line.
add_executable(fail_on_rank ${CMAKE_CURRENT_LIST_DIR}/fail_on_rank.cpp)
target_link_libraries(fail_on_rank PRIVATE ram::runtime)
ram_add_script_test(NAME error_on_rank1_ends_job
  COMMAND ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py
          --expect "[rank 1] error: deliberate failure on rank 1 (fail_on_rank)" --expect "nothing to do"
          -- ${MPIEXEC_EXECUTABLE} -np 2 --oversubscribe $<TARGET_FILE:fail_on_rank>
  LABELS mpi TIMEOUT 60)
set_tests_properties(error_on_rank1_ends_job PROPERTIES PROCESSORS 2)

# The same while the failing rank holds a WorkQueue and a Progress (collective MPI_Win_free
# in their destructors must be skipped during unwinding).
add_executable(fail_in_work_queue ${CMAKE_CURRENT_LIST_DIR}/fail_in_work_queue.cpp)
target_link_libraries(fail_in_work_queue PRIVATE ram::runtime)
ram_add_script_test(NAME error_in_work_queue_ends_job
  COMMAND ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py --timeout 60
          --expect "[rank 1] error: deliberate failure inside a work queue"
          -- ${MPIEXEC_EXECUTABLE} -np 2 --oversubscribe $<TARGET_FILE:fail_in_work_queue>
  LABELS mpi TIMEOUT 90)
set_tests_properties(error_in_work_queue_ends_job PROPERTIES PROCESSORS 2)
