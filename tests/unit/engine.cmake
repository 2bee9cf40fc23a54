# The sampling engine (src/generate: processors, counter-based draws, continuous refill),
# on tiny llamas; the processors against tests/python/processors_ref.py (HF's warpers).
ram_add_test(NAME test_engine SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_engine.cpp LABELS unit
             LIBRARIES nlohmann_json::nlohmann_json)
add_dependencies(test_engine ram_model_llama)
