# The demo task end to end: `ram make-tokenizer --byte-level` / `--bpe N` (load in HF `tokenizers` with
# the same ids: the parity checker of tests/e2e/tokenizer.cmake), `ram eval` (eval_cli.sh,
# checked in Python), and bad input to `ram eval`: one error line, non-zero exit.
set(ram_byte_tok ${PROJECT_BINARY_DIR}/tokenizer-byte/byte)
add_test(NAME tokenizer_make_byte_level
  COMMAND ${PROJECT_BINARY_DIR}/bin/ram make-tokenizer --byte-level --out ${ram_byte_tok} --force)
set_tests_properties(tokenizer_make_byte_level PROPERTIES
  ENVIRONMENT "${RAM_TEST_ENV}" LABELS e2e TIMEOUT 60 FIXTURES_SETUP ram_tok_byte)
find_program(RAM_NODE_EXECUTABLE node)
if(NOT RAM_NODE_EXECUTABLE)
  set(RAM_NODE_EXECUTABLE node)  # the setup test then fails, saying so
endif()
ram_add_script_test(NAME tokenizer_parity_byte_level
  COMMAND ${RAM_NODE_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/tokenizer/parity.js
          --ram ${PROJECT_BINARY_DIR}/bin/ram --tokenizers ${RAM_TOKENIZERS_DIR}
          --corpus ${PROJECT_SOURCE_DIR}/tests/tokenizer/corpus.jsonl --families ${ram_byte_tok}
  LABELS e2e TIMEOUT 300)
set_tests_properties(tokenizer_parity_byte_level PROPERTIES
  FIXTURES_REQUIRED "ram_tok_node;ram_tok_byte")
set_property(TEST tokenizer_parity_byte_level APPEND PROPERTY
  ENVIRONMENT "NODE_PATH=${PROJECT_BINARY_DIR}/tokenizer-node/node_modules")

# `ram make-tokenizer --bpe N` on the demo dataset: the merges and vocabulary equal an
# independent Python trainer's (tests/python/train_bpe_ref.py, on `ram prepare`'s dump of the
# same examples), and the HF tokenizer (node) encodes with it exactly as ram does.
set(ram_bpe_tok ${PROJECT_BINARY_DIR}/tokenizer-byte/bpe)
set(ram_bpe_args dataset=demo dataset.size=3000 dataset.seed=3)
add_test(NAME tokenizer_make_bpe
  COMMAND ${PROJECT_BINARY_DIR}/bin/ram make-tokenizer --bpe 400 ${ram_bpe_args} --out ${ram_bpe_tok} --force)
set_tests_properties(tokenizer_make_bpe PROPERTIES
  ENVIRONMENT "${RAM_TEST_ENV}" LABELS e2e TIMEOUT 120 FIXTURES_SETUP ram_tok_bpe)
ram_add_script_test(NAME tokenizer_bpe_reference LABELS e2e TIMEOUT 120
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bpe_reference.sh ${ram_bpe_tok} 400 ${ram_bpe_args})
set_tests_properties(tokenizer_bpe_reference PROPERTIES FIXTURES_REQUIRED ram_tok_bpe)
ram_add_script_test(NAME tokenizer_parity_bpe
  COMMAND ${RAM_NODE_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/tokenizer/parity.js
          --ram ${PROJECT_BINARY_DIR}/bin/ram --tokenizers ${RAM_TOKENIZERS_DIR}
          --corpus ${PROJECT_SOURCE_DIR}/tests/tokenizer/corpus.jsonl --families ${ram_bpe_tok}
  LABELS e2e TIMEOUT 300)
set_tests_properties(tokenizer_parity_bpe PROPERTIES FIXTURES_REQUIRED "ram_tok_node;ram_tok_bpe")
set_property(TEST tokenizer_parity_bpe APPEND PROPERTY
  ENVIRONMENT "NODE_PATH=${PROJECT_BINARY_DIR}/tokenizer-node/node_modules")
# Neither or both of --byte-level / --bpe: one error line.
ram_add_script_test(NAME bad_make_tokenizer_mode LABELS e2e
  COMMAND ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py
          --expect "exactly one of --byte-level and --bpe"
          -- ${PROJECT_BINARY_DIR}/bin/ram make-tokenizer --out ${PROJECT_BINARY_DIR}/tokenizer-byte/none)

ram_add_script_test(NAME eval_cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/eval_cli.sh
  LABELS e2e mpi TIMEOUT 300)
set_tests_properties(eval_cli PROPERTIES PROCESSORS 2)

set(expect ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py)
set(ram_eval_demo ${PROJECT_BINARY_DIR}/bin/ram eval dataset=demo dataset.split=test)
ram_add_script_test(NAME eval_bad_outputs_file LABELS e2e
  COMMAND ${expect} --expect "eval_broken_outputs.json:3" --expect "malformed JSON"
          -- ${ram_eval_demo} --outputs ${CMAKE_CURRENT_LIST_DIR}/fixtures/eval_broken_outputs.json)
ram_add_script_test(NAME eval_unknown_judge LABELS e2e
  COMMAND ${expect} --expect "no judge plugin named 'lenght'" --expect "did you mean 'length'?"
          -- ${ram_eval_demo} "eval.judges=[demo,lenght]"
             --outputs ${CMAKE_CURRENT_LIST_DIR}/fixtures/eval_broken_outputs.json)
