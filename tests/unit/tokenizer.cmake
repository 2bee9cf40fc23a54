# ram::tok: NFC / lossy UTF-8 / sha256 against Python, vendored-file facts, cache and thread
# invariants, FormatError paths, the `ram tokenize` protocol. The vendored tokenizers are
# extracted at configure time by tests/e2e/tokenizer.cmake (${RAM_TOKENIZERS_DIR}).
ram_add_test(NAME test_tokenizer SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer.cpp
  LIBRARIES nlohmann_json::nlohmann_json LABELS unit)
add_dependencies(test_tokenizer ram)  # TokCli.* runs `ram tokenize`
