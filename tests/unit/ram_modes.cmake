# RAM decoding (issue 6): the joint step's modes against their formulas recomputed in the
# test, chi-square of sampled frequencies, the engine with a proposal in lockstep (limits of
# par_kl, batch-size invariance) and resample's effective sample size, on tiny llamas.
ram_add_test(NAME test_ram_modes SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ram_modes.cpp LABELS unit)
add_dependencies(test_ram_modes ram_model_llama)
