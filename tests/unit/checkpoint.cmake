# Training checkpoints on one rank (train/checkpoint.hpp): round trip of a tiny llama (f32,
# bf16) with made-up optimizer state, layout mismatch errors, LATEST resolution, a writer
# dying before its rename, export to an HF directory.
ram_add_test(NAME test_checkpoint SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_checkpoint.cpp LABELS unit)
add_dependencies(test_checkpoint ram_model_llama)
