# The pairwise objectives (ram_sft, dpo, ipo, ram_dpo) on tiny llamas, against
# tests/python/objectives_reference.py (its own llama via hf_reference.py, torch autograd),
# run live.
ram_add_test(NAME test_objectives SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_objectives.cpp LABELS unit
             LIBRARIES nlohmann_json::nlohmann_json)
add_dependencies(test_objectives ram_objective_ram_sft ram_objective_dpo ram_objective_ipo
                 ram_objective_ram_dpo ram_model_llama)
