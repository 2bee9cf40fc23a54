# `ram generate` with RAM decoding end to end (issue 6): greedy par / par_kl / mds against
# tests/python/ram_decode_reference.py, 1 rank = 2 ranks for sampling and resample, resample's
# ESS in [1, N], the config route's outputs.h5 / outputs.json (generate_ram.sh); and a
# proposal with another tokenizer is one clear error line naming both models.
ram_add_script_test(NAME generate_ram LABELS e2e mpi TIMEOUT 600
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/generate_ram.sh)
set_tests_properties(generate_ram PROPERTIES PROCESSORS 2)

set(gen_models ${PROJECT_BINARY_DIR}/e2e-models)
ram_add_script_test(NAME generate_fixture_models LABELS e2e
  COMMAND sh -c "${PROJECT_BINARY_DIR}/bin/ram make-tiny-model --arch llama --out ${gen_models}/gen_gpt2 --force --tokenizer ${RAM_TOKENIZERS_DIR}/gpt2 --vocab 50304 --hidden 16 --layers 1 --heads 2 --intermediate 32 --max-positions 64 && ${PROJECT_BINARY_DIR}/bin/ram make-tiny-model --arch llama --out ${gen_models}/gen_neox --force --tokenizer ${RAM_TOKENIZERS_DIR}/gpt_neox --vocab 50304 --hidden 16 --layers 1 --heads 2 --intermediate 32 --max-positions 64")
set_tests_properties(generate_fixture_models PROPERTIES FIXTURES_SETUP ram_generate_models)
ram_add_script_test(NAME bad_generate_tokenizer_mismatch LABELS e2e DEPENDS ram_generate_models
  COMMAND ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py
          --expect "tokenizer mismatch" --expect "gen_gpt2" --expect "gen_neox"
          -- ${PROJECT_BINARY_DIR}/bin/ram generate --model ${gen_models}/gen_gpt2
             --proposal ${gen_models}/gen_neox --sample-mode par_kl --greedy
             --input ${CMAKE_CURRENT_LIST_DIR}/fixtures/generate_ids.jsonl)
