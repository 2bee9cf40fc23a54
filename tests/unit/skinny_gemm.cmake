# nn::skinny_linear / nn::PackedLinear (the AVX-512 skinny matrix products) against float64,
# every row count 1..70 with odd K/N tails, and nn::linear's kernel choice (autograd keeps
# at::linear). Skipped on a CPU without AVX-512F.
ram_add_test(NAME test_skinny_gemm SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_skinny_gemm.cpp
             LABELS unit)
