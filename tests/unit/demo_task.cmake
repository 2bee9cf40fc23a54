# The demo task's plugins (dataset `demo`, judges `demo`, `length`, `overlap`) loaded through
# the registry, and ram::eval's outputs reader, matching, statistics and win rate.
ram_add_test(NAME test_demo_task SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_demo_task.cpp LABELS unit)
add_dependencies(test_demo_task ram_dataset_demo ram_judge_demo ram_judge_length ram_judge_overlap)
ram_add_test(NAME test_eval SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_eval.cpp LABELS unit)
add_dependencies(test_eval ram_dataset_demo)
