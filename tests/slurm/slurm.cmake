# The Slurm CI test (issue 9, label `slurm`): a private munged + slurmctld + slurmd on this
# machine (tests/slurm/cluster.sh), the real slurm/ scripts with shrunk requests: the
# sample → train pipeline, preemption (SIGUSR1 → checkpoint → requeue → resume = an
# uninterrupted run), a 4-point sweep as a job array with a resubmission and `ram report`.
# Needs Debian's munge, slurmctld, slurmd, slurm-client, libpmix-dev, python3-matplotlib
# (launch/bootstrap.sh).
ram_add_script_test(NAME slurm_pipeline_sweep_preempt LABELS slurm TIMEOUT 420
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/slurm_ci.sh)
set_tests_properties(slurm_pipeline_sweep_preempt PROPERTIES PROCESSORS 2 RUN_SERIAL TRUE)
