# `ram train` end to end (issue 5) on a tiny llama with GPT-2's tokenizer and 24 examples
# (train_fixture.sh): 1 rank = 2 ranks = 2 ranks × 2 micro-batches with ZeRO-1 = 1 rank × 4
# micro-batches (train_ranks.sh); the logged loss, grad norm and parameters equal an
# independent torch loop (train_reference.sh, check_train.py reference); SIGKILL + resume
# = uninterrupted, bit for bit (train_kill.sh); non-finite loss (train_nonfinite.sh); and
# bad configurations ending in one error line.
foreach(t ranks_agree:train_ranks.sh matches_torch:train_reference.sh
          resume_after_kill:train_kill.sh stops_on_nonfinite:train_nonfinite.sh)
  string(REPLACE ":" ";" parts ${t})
  list(GET parts 0 name)
  list(GET parts 1 script)
  ram_add_script_test(NAME train_${name} LABELS e2e mpi TIMEOUT 400
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${script})
  set_tests_properties(train_${name} PROPERTIES PROCESSORS 2)
endforeach()

set(expect ${RAM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../python/expect_one_error.py)
set(train_fx ${PROJECT_BINARY_DIR}/e2e-train)
ram_add_script_test(NAME train_fixture LABELS e2e
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/train_fixture.sh ${train_fx})
set_tests_properties(train_fixture PROPERTIES FIXTURES_SETUP ram_train_fixture)
set(ram_train ${PROJECT_BINARY_DIR}/bin/ram train model.path=${train_fx}/model dtype=f32
    dataset.path=${train_fx}/data.jsonl train.data=dataset max_length=40 max_prompt_length=24
    batch_size=4 n_eval_examples=4 lr=1e-3)
ram_add_script_test(NAME bad_train_batch_not_divisible LABELS e2e mpi DEPENDS ram_train_fixture
  COMMAND ${expect} --ranks-may-repeat --expect "batch_size 6 is not divisible" --expect "2 × 2"
          -- ${MPIEXEC_EXECUTABLE} -np 2 --oversubscribe ${ram_train} batch_size=6
             gradient_accumulation_steps=2 run_dir=${train_fx}/run-div)
set_tests_properties(bad_train_batch_not_divisible PROPERTIES PROCESSORS 2)
ram_add_script_test(NAME bad_train_needs_rejected LABELS e2e DEPENDS ram_train_fixture
  COMMAND ${expect} --expect "needs a rejected" --expect "ram_sft"
          -- ${ram_train} loss=ram_sft run_dir=${train_fx}/run-rej)
ram_add_script_test(NAME bad_train_missing_synth LABELS e2e DEPENDS ram_train_fixture
  COMMAND ${expect} --expect "${train_fx}/none/synth.h5"
          -- ${ram_train} train.data=synth train.synth=${train_fx}/none/synth.h5 run_dir=${train_fx}/run-syn)
ram_add_script_test(NAME bad_train_optimizer LABELS e2e DEPENDS ram_train_fixture
  COMMAND ${expect} --expect "optimizer 'sgd'" --expect "rmsprop"
          -- ${ram_train} optimizer=sgd run_dir=${train_fx}/run-opt)
