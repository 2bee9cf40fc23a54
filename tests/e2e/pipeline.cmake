# `ram pipeline` end to end (issue 7): sample → train → export on 2 ranks from an experiment
# file, then a rerun that finds every stage complete and one that resumes training.
ram_add_script_test(NAME pipeline_stages_resume LABELS e2e mpi TIMEOUT 400
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/pipeline_run.sh)
set_tests_properties(pipeline_stages_resume PROPERTIES PROCESSORS 2)
