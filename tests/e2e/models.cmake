# Models end to end (issue 3): `ram make-tiny-model` → `ram score` / `ram generate` against
# tests/python/hf_reference.py (model_parity.sh), the text route with GPT-2's tokenizer
# (model_text.sh), and each kind of bad input ending in one error line.
set(RAM_E2E_FIXTURES ${CMAKE_CURRENT_LIST_DIR}/fixtures)
set(parity ${CMAKE_CURRENT_LIST_DIR}/model_parity.sh)
set(tiny_sizes --vocab 256 --hidden 64 --layers 2 --heads 4 --intermediate 128
               --max-positions 256 --rope-theta 10000 --init-std 0.2)
ram_add_script_test(NAME model_parity_llama_llama3_tied LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_COMMAND} -E env MPIEXEC=${MPIEXEC_EXECUTABLE}
          ${parity} llama f32 --arch llama ${tiny_sizes} --kv-heads 2 --rope-scaling llama3:8 --tied)
ram_add_script_test(NAME model_parity_qwen2 LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_COMMAND} -E env MPIEXEC=${MPIEXEC_EXECUTABLE}
          ${parity} qwen2 f32 --arch qwen2 ${tiny_sizes} --kv-heads 2)
ram_add_script_test(NAME model_parity_gpt_neox LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_COMMAND} -E env MPIEXEC=${MPIEXEC_EXECUTABLE}
          ${parity} gpt_neox f32 --arch gpt_neox ${tiny_sizes} --rotary-pct 0.25)
ram_add_script_test(NAME model_parity_llama_bf16 LABELS e2e TIMEOUT 300
  COMMAND ${parity} llama_bf16 bf16 --arch llama ${tiny_sizes} --kv-heads 2
          --rope-scaling llama3:8 --tied)
set_tests_properties(model_parity_llama_llama3_tied model_parity_qwen2 model_parity_gpt_neox
  PROPERTIES PROCESSORS 2)

# Real tokenizers (gpt2/, llama3/): the vendored copy extracted by tests/CMakeLists.txt.
ram_add_script_test(NAME model_text_route LABELS e2e TIMEOUT 300
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/model_text.sh ${RAM_TOKENIZERS_DIR})

# Bad inputs: one error line each (a tiny llama is made once for the ones that need a model).
set(expect ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py)
set(ram_exe ${PROJECT_BINARY_DIR}/bin/ram)
set(tiny_dir ${PROJECT_BINARY_DIR}/e2e-models/tiny_llama)
ram_add_script_test(NAME model_fixture_tiny_llama LABELS e2e
  COMMAND ${ram_exe} make-tiny-model --arch llama --out ${tiny_dir} --force --vocab 256 --hidden 32
          --layers 1 --heads 2 --intermediate 64)
set_tests_properties(model_fixture_tiny_llama PROPERTIES FIXTURES_SETUP ram_tiny_llama)
ram_add_script_test(NAME bad_model_missing_config LABELS e2e
  COMMAND ${expect} --expect "no config.json" --expect "model_no_config"
          -- ${ram_exe} score --model ${RAM_E2E_FIXTURES}/model_no_config
             --input ${RAM_E2E_FIXTURES}/score_oov.jsonl)
ram_add_script_test(NAME bad_model_unknown_type LABELS e2e
  COMMAND ${expect} --expect "no model plugin named 'bert'" --expect "model_type"
          --expect "model_unknown_type/config.json" --expect "available model plugins"
          -- ${ram_exe} generate --greedy --model ${RAM_E2E_FIXTURES}/model_unknown_type
             --input ${RAM_E2E_FIXTURES}/score_oov.jsonl)
ram_add_script_test(NAME bad_model_input_malformed_line LABELS e2e DEPENDS ram_tiny_llama
  COMMAND ${expect} --expect "score_malformed.jsonl:2" --expect "malformed JSON"
          -- ${ram_exe} score --model ${tiny_dir} --input ${RAM_E2E_FIXTURES}/score_malformed.jsonl)
ram_add_script_test(NAME bad_model_input_malformed_line_2_ranks LABELS e2e mpi DEPENDS ram_tiny_llama
  COMMAND ${expect} --ranks-may-repeat --expect "score_malformed.jsonl:2"
          -- ${MPIEXEC_EXECUTABLE} -np 2 --oversubscribe ${ram_exe} score --model ${tiny_dir}
             --input ${RAM_E2E_FIXTURES}/score_malformed.jsonl)
set_tests_properties(bad_model_input_malformed_line_2_ranks PROPERTIES PROCESSORS 2)
ram_add_script_test(NAME bad_model_input_id_outside_vocab LABELS e2e DEPENDS ram_tiny_llama
  COMMAND ${expect} --expect "score_oov.jsonl:3" --expect "prompt_ids[1] = 99999"
          --expect "outside the vocabulary"
          -- ${ram_exe} score --model ${tiny_dir} --input ${RAM_E2E_FIXTURES}/score_oov.jsonl)
ram_add_script_test(NAME bad_model_out_exists LABELS e2e DEPENDS ram_tiny_llama
  COMMAND ${expect} --expect "output directory exists and is not empty" "--expect=pass --force"
          -- ${ram_exe} make-tiny-model --arch llama --out ${tiny_dir})
if(EXISTS ${RAM_GPT2_TOKENIZER}/tokenizer.json)
  ram_add_script_test(NAME bad_model_vocab_below_tokenizer LABELS e2e
    COMMAND ${expect} --expect "--vocab 100 is smaller than the tokenizer's 50257 tokens"
            -- ${ram_exe} make-tiny-model --arch llama --out ${PROJECT_BINARY_DIR}/e2e-models/never
               --tokenizer ${RAM_GPT2_TOKENIZER} --vocab 100)
endif()
