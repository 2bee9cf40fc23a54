# Model plugins (llama, qwen2, gpt_neox) through the registry; parity with
# tests/python/hf_reference.py (an independent re-implementation of HF's forward passes).
ram_add_test(NAME test_models SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_models.cpp LABELS unit
             LIBRARIES nlohmann_json::nlohmann_json)
add_dependencies(test_models ram_model_llama ram_model_qwen2 ram_model_gpt_neox)
