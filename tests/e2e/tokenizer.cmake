# Tokenizer parity with HuggingFace `tokenizers` (official Node binding, npm, pinned in
# tests/tokenizer/package-lock.json) on tests/tokenizer/corpus.jsonl, for the five real
# tokenizers and a synthetic one exercising added-token flags.
#
# The five real tokenizer folders (llama3, qwen2_5, qwen3, gpt_neox, gpt2; sources in
# SOURCES.md inside) are vendored as tests/fixtures/tokenizers.tar.xz and extracted at
# configure time into ${RAM_TOKENIZERS_DIR} = <build>/tokenizers/<family>/ (re-extracted
# when the archive changes). Other tests and bench_tokenizer use that folder.
# (RAM_TOKENIZERS_DIR is set up in tests/CMakeLists.txt, before any suite.)

set(ram_tok_src ${PROJECT_SOURCE_DIR}/tests/tokenizer)
set(ram_tok_node_dir ${PROJECT_BINARY_DIR}/tokenizer-node)
find_program(RAM_NODE_EXECUTABLE node)
if(NOT RAM_NODE_EXECUTABLE)
  set(RAM_NODE_EXECUTABLE node)  # the setup test then fails, saying so
endif()

# 1. npm ci of the pinned package into the build tree (cached; fails loudly without network).
add_test(NAME tokenizer_npm_setup
  COMMAND sh ${ram_tok_src}/npm_setup.sh ${ram_tok_src} ${ram_tok_node_dir})
set_tests_properties(tokenizer_npm_setup PROPERTIES
  LABELS e2e TIMEOUT 600 FIXTURES_SETUP ram_tok_node)

# 2. The synthetic flags tokenizer (built from GPT-2's files by a Python script).
add_test(NAME tokenizer_make_flags
  COMMAND ${RAM_PYTHON3} ${ram_tok_src}/make_flags_tokenizer.py
          ${RAM_TOKENIZERS_DIR}/gpt2 ${PROJECT_BINARY_DIR}/tokenizer-flags/flags)
set_tests_properties(tokenizer_make_flags PROPERTIES
  LABELS e2e TIMEOUT 60 FIXTURES_SETUP ram_tok_flags)

set(ram_tok_parity ${RAM_NODE_EXECUTABLE} ${ram_tok_src}/parity.js
  --ram ${PROJECT_BINARY_DIR}/bin/ram --tokenizers ${RAM_TOKENIZERS_DIR}
  --corpus ${ram_tok_src}/corpus.jsonl)
# 3. Parity on all five real tokenizers and the synthetic one.
ram_add_script_test(NAME tokenizer_parity
  COMMAND ${ram_tok_parity}
          --families llama3,qwen2_5,qwen3,gpt_neox,gpt2,${PROJECT_BINARY_DIR}/tokenizer-flags/flags
  LABELS e2e TIMEOUT 900)
# 4. The same checker with one deliberately wrong expectation must report the mismatch.
ram_add_script_test(NAME tokenizer_parity_detects_mismatch
  COMMAND ${ram_tok_parity} --families gpt2 --corrupt
  LABELS e2e TIMEOUT 300)
foreach(t tokenizer_parity tokenizer_parity_detects_mismatch)
  set_tests_properties(${t} PROPERTIES FIXTURES_REQUIRED "ram_tok_node;ram_tok_flags")
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "NODE_PATH=${ram_tok_node_dir}/node_modules")
endforeach()
