# `ram sample` end to end (issue 4): a tiny llama with GPT-2's tokenizer samples 40 prompts.
# 1 = 3 ranks = 2 ranks with another batch size (sample_ranks.sh), a 2-rank run SIGKILLed
# half-way then resumed equals an uninterrupted one (sample_kill.sh), empty prompts skipped
# and counted (sample_skip_empty.sh) — all checked by h5py in tests/python/check_synth.py —
# and each kind of bad input ending in one error line (expect_one_error.py).
set(RAM_E2E_FIXTURES ${CMAKE_CURRENT_LIST_DIR}/fixtures)
ram_add_script_test(NAME sample_ranks_agree LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/sample_ranks.sh)
ram_add_script_test(NAME sample_resume_after_kill LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/sample_kill.sh)
ram_add_script_test(NAME sample_skip_empty_prompt LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/sample_skip_empty.sh)
set_tests_properties(sample_ranks_agree sample_resume_after_kill sample_skip_empty_prompt
  PROPERTIES PROCESSORS 2)

# Bad inputs. One tiny model (GPT-2 tokenizer) made once for them.
set(expect ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py)
set(sample_model ${PROJECT_BINARY_DIR}/e2e-models/sample_llama_gpt2)
set(sample_out ${PROJECT_BINARY_DIR}/e2e-sample)
ram_add_script_test(NAME sample_fixture_model LABELS e2e
  COMMAND ${PROJECT_BINARY_DIR}/bin/ram make-tiny-model --arch llama --out ${sample_model} --force
          --tokenizer ${RAM_TOKENIZERS_DIR}/gpt2 --vocab 50304 --hidden 32 --layers 1 --heads 2
          --intermediate 64 --max-positions 128)
set_tests_properties(sample_fixture_model PROPERTIES FIXTURES_SETUP ram_sample_model)
set(ram_sample ${PROJECT_BINARY_DIR}/bin/ram sample model.path=${sample_model}
    sample.max_new_tokens=4 sample.max_length=64 sample.max_prompt_length=32)
ram_add_script_test(NAME bad_sample_empty_prompt LABELS e2e DEPENDS ram_sample_model
  COMMAND ${expect} --expect "empty prompt" --expect "example 2"
          --expect "sample_empty_prompt.jsonl:3" --expect "on_empty_prompt=skip"
          -- ${ram_sample} dataset.path=${RAM_E2E_FIXTURES}/sample_empty_prompt.jsonl
             sample.out=${sample_out}/empty/synth.h5)
ram_add_script_test(NAME bad_sample_empty_prompt_2_ranks LABELS e2e mpi DEPENDS ram_sample_model
  COMMAND ${expect} --ranks-may-repeat --expect "empty prompt" --expect "example 2"
          -- ${MPIEXEC_EXECUTABLE} -np 2 --oversubscribe ${ram_sample} sample.chunk_size=1
             dataset.path=${RAM_E2E_FIXTURES}/sample_empty_prompt.jsonl
             sample.out=${sample_out}/empty2/synth.h5)
set_tests_properties(bad_sample_empty_prompt_2_ranks PROPERTIES PROCESSORS 2)
ram_add_script_test(NAME bad_sample_tokenizer_mismatch LABELS e2e DEPENDS ram_sample_model
  COMMAND ${expect} --expect "tokenizer mismatch" --expect "tokenizers/gpt_neox"
          --expect "sample_llama_gpt2" --expect "sample.tokenizer"
          -- ${ram_sample} dataset.path=${RAM_E2E_FIXTURES}/sample_empty_prompt.jsonl
             sample.tokenizer=${RAM_TOKENIZERS_DIR}/gpt_neox sample.out=${sample_out}/tok/synth.h5)
ram_add_script_test(NAME bad_sample_malformed_line LABELS e2e DEPENDS ram_sample_model
  COMMAND ${expect} --expect "sample_malformed.jsonl:3" --expect "malformed JSON"
          -- ${ram_sample} dataset.path=${RAM_E2E_FIXTURES}/sample_malformed.jsonl
             sample.out=${sample_out}/malformed/synth.h5)
ram_add_script_test(NAME bad_sample_invalid_utf8 LABELS e2e DEPENDS ram_sample_model
  COMMAND ${expect} --expect "invalid UTF-8" --expect "sample_bad_utf8.jsonl:2"
          -- ${ram_sample} dataset.path=${RAM_E2E_FIXTURES}/sample_bad_utf8.jsonl
             sample.out=${sample_out}/utf8/synth.h5)
ram_add_script_test(NAME bad_sample_config_value LABELS e2e DEPENDS ram_sample_model
  COMMAND ${expect} --expect "sample.on_empty_prompt" --expect "expected fail or skip"
          -- ${ram_sample} dataset.path=${RAM_E2E_FIXTURES}/sample_empty_prompt.jsonl
             sample.on_empty_prompt=ignore sample.out=${sample_out}/cfg/synth.h5)
