# `ram prepare` end to end: 1 = 2 = 3 ranks, checked by h5py; and each kind of bad input
# ends with one error line and a non-zero exit (tests/python/expect_one_error.py).
set(RAM_E2E_FIXTURES ${CMAKE_CURRENT_LIST_DIR}/fixtures)
ram_add_script_test(NAME prepare_ranks_agree COMMAND ${CMAKE_CURRENT_LIST_DIR}/prepare_ranks.sh
  LABELS e2e mpi TIMEOUT 180)
set_tests_properties(prepare_ranks_agree PROPERTIES PROCESSORS 2)

set(expect ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py)
set(ram_prepare ${PROJECT_BINARY_DIR}/bin/ram prepare smoke)
ram_add_script_test(NAME bad_input_missing_plugin LABELS e2e
  COMMAND ${expect} --expect "no dataset plugin named 'jsnol'" --expect "did you mean 'jsonl'?"
          --expect "available dataset plugins: " -- ${ram_prepare} dataset.name=jsnol)
ram_add_script_test(NAME bad_input_plugin_other_abi LABELS e2e
  COMMAND ${CMAKE_COMMAND} -E env RAM_PLUGIN_PATH=${PROJECT_BINARY_DIR}/test-plugins
          ${expect} --expect "dataset plugin 'bad_abi' is unusable: plugin ABI 999, this ram: 1"
          --expect "libram_dataset_bad_abi.so" -- ${ram_prepare} dataset.name=bad_abi)
ram_add_script_test(NAME bad_input_config_typo LABELS e2e
  COMMAND ${expect} --expect "dataset.promt_key" --expect "did you mean 'dataset.prompt_key'"
          -- ${ram_prepare} dataset.promt_key=instruction)
ram_add_script_test(NAME bad_input_config_typo_in_plugin_node LABELS e2e
  COMMAND ${expect} --expect "dataset.promt_key" --expect "did you mean 'dataset.prompt_key'"
          -- ${ram_prepare} +dataset.promt_key=instruction
             dataset.path=${RAM_E2E_FIXTURES}/good.jsonl)
ram_add_script_test(NAME bad_input_malformed_jsonl LABELS e2e
  COMMAND ${expect} --expect "malformed.jsonl:3"
          -- ${ram_prepare} dataset.path=${RAM_E2E_FIXTURES}/malformed.jsonl)
ram_add_script_test(NAME bad_input_malformed_jsonl_2_ranks LABELS e2e mpi
  COMMAND ${expect} --ranks-may-repeat --expect "malformed.jsonl:3"
          -- ${MPIEXEC_EXECUTABLE} -np 2 --oversubscribe ${ram_prepare}
             dataset.path=${RAM_E2E_FIXTURES}/malformed.jsonl)
set_tests_properties(bad_input_malformed_jsonl_2_ranks PROPERTIES PROCESSORS 2)
