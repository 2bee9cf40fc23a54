# HF model directories at run time (src/model: load, save, tiny) and batched inference
# (src/generate: left padding, scoring, the greedy decoder, JSONL requests), on tiny llamas.
ram_add_test(NAME test_inference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_inference.cpp LABELS unit
             LIBRARIES nlohmann_json::nlohmann_json)
add_dependencies(test_inference ram_model_llama)
