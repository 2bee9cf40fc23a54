# Training checkpoints on two ranks: ZeRO-1 shards written collectively equal the
# concatenation and read back per shard; without ZeRO-1 rank 0's buffers are the file's.
ram_add_test(NAME test_checkpoint_mpi SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_checkpoint_mpi.cpp
  MPI_SIZE 2 LABELS mpi TIMEOUT 120)
target_include_directories(test_checkpoint_mpi PRIVATE ${CMAKE_CURRENT_LIST_DIR})
add_dependencies(test_checkpoint_mpi ram_model_llama)
