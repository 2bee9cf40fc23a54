# Checkpoints end to end: a tiny llama HF dir (GPT-2 tokenizer) → ckpt_write_fake writes a
# checkpoint of it (2 ranks with ZeRO-1 shards, or 1 rank) → h5py checks the file
# (tests/python/check_checkpoint.py) → `ram export` → `ram score` on the exported dir gives
# the original dir's scores exactly; export over an existing dir is one error line.
add_executable(ckpt_write_fake ${CMAKE_CURRENT_LIST_DIR}/ckpt_write_fake.cpp)
target_include_directories(ckpt_write_fake PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../mpi)
target_link_libraries(ckpt_write_fake PRIVATE ram::runtime)
ram_use_torch_pch(ckpt_write_fake)
add_dependencies(ckpt_write_fake ram_model_llama)
ram_add_script_test(NAME checkpoint_export_f32_2_ranks LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_COMMAND} -E env MPIEXEC=${MPIEXEC_EXECUTABLE}
          ${CMAKE_CURRENT_LIST_DIR}/checkpoint_export.sh f32 2 $<TARGET_FILE:ckpt_write_fake>)
ram_add_script_test(NAME checkpoint_export_bf16 LABELS e2e TIMEOUT 300
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/checkpoint_export.sh bf16 1 $<TARGET_FILE:ckpt_write_fake>)
set_tests_properties(checkpoint_export_f32_2_ranks PROPERTIES PROCESSORS 2)
