# platform/ tests: BLAS kernel choice, re-exec guard, thread counts. The probe is a child
# process that starts like `ram` (prepare_process first), run with chosen environments.
add_executable(platform_probe ${CMAKE_CURRENT_LIST_DIR}/test_platform_probe.cpp)
target_link_libraries(platform_probe PRIVATE ram::runtime nlohmann_json::nlohmann_json)

ram_add_test(NAME test_platform SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_platform.cpp
  LIBRARIES nlohmann_json::nlohmann_json LABELS unit)
add_dependencies(test_platform platform_probe)
target_compile_definitions(test_platform PRIVATE
  RAM_PLATFORM_PROBE="$<TARGET_FILE:platform_probe>")

# Needs no RAM_NUM_THREADS / OMP_NUM_THREADS in the ctest environment (RAM_TEST_ENV sets none).
ram_add_test(NAME test_platform_mpi SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_platform_mpi.cpp
  MPI_SIZE 2 LABELS mpi)

# platform/stop.hpp: SIGUSR1/SIGTERM → the stop flag (in forked children).
ram_add_test(NAME test_stop SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stop.cpp LABELS unit)
