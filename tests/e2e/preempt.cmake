# Preemption (issue 9): SIGUSR1 — Slurm's time-limit warning — makes `ram train` stop after
# the current step on every rank (signal sent to one rank only), checkpoint and exit 0, and
# `ram sample` stop between chunks without merging (signal sent to mpirun, which forwards
# it); each run then resumes to the same result as an uninterrupted one.
ram_add_script_test(NAME train_stops_on_signal LABELS e2e mpi TIMEOUT 400
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/train_signal.sh)
ram_add_script_test(NAME sample_stops_on_signal LABELS e2e mpi TIMEOUT 300
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/sample_signal.sh)
set_tests_properties(train_stops_on_signal sample_stops_on_signal PROPERTIES PROCESSORS 2)
