# ram::safetensors: round trips, zero-copy and lifetime, every validation error, and the
# independent Python reference (tests/python/safetensors_ref.py: hand-written files read by
# us, our files checked by it), run live.
ram_add_test(NAME test_safetensors SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_safetensors.cpp
             LIBRARIES nlohmann_json::nlohmann_json LABELS unit)
