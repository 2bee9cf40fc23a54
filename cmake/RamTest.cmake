# ram_add_test(NAME <name> SOURCES <files...> [LIBRARIES <libs...>]
#              [MPI_SIZE <n>] [LABELS <labels...>] [TIMEOUT <s>])
# One GoogleTest executable. Without MPI_SIZE its tests are discovered one by one and run
# serially. With MPI_SIZE n the whole executable runs once under
# `mpirun -np n --oversubscribe`; a run that cannot get its ranks fails (never skips).
include(GoogleTest)
find_package(GTest REQUIRED)

set(RAM_TEST_ENV
  "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  "OMPI_MCA_rmaps_base_oversubscribe=1"
  "RAM_PLUGIN_PATH=${RAM_PLUGIN_BUILD_DIR}"
  "RAM_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "RAM_BINARY_DIR=${PROJECT_BINARY_DIR}"
  "RAM_BIN=${PROJECT_BINARY_DIR}/bin/ram"
  "RAM_PYTHON=${RAM_PYTHON3}")

function(ram_add_test)
  cmake_parse_arguments(T "" "NAME;MPI_SIZE;TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ram_test_support ${T_LIBRARIES})
  ram_use_torch_pch(${T_NAME})
  if(T_MPI_SIZE)
    add_test(NAME ${T_NAME}_np${T_MPI_SIZE}
      COMMAND ${MPIEXEC_EXECUTABLE} -np ${T_MPI_SIZE} --oversubscribe
              $<TARGET_FILE:${T_NAME}>)
    set_tests_properties(${T_NAME}_np${T_MPI_SIZE} PROPERTIES
      ENVIRONMENT "${RAM_TEST_ENV}" LABELS "mpi;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
      PROCESSORS ${T_MPI_SIZE})
  else()
    # Tests are found in the sources at configure time (gtest_add_tests), which keeps
    # list-valued properties such as ENVIRONMENT intact (gtest_discover_tests flattens them).
    gtest_add_tests(TARGET ${T_NAME} SOURCES ${T_SOURCES} TEST_LIST found)
    set_tests_properties(${found} PROPERTIES
      ENVIRONMENT "${RAM_TEST_ENV}" LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  endif()
endfunction()

# ram_add_script_test(NAME <name> COMMAND <cmd...> [LABELS ...] [TIMEOUT s] [WILL_FAIL])
function(ram_add_script_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS;DEPENDS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES
    ENVIRONMENT "${RAM_TEST_ENV}" LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  if(T_DEPENDS)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED "${T_DEPENDS}")
  endif()
endfunction()
