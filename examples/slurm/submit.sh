#!/bin/bash
# Submit the array (one GPU per task) and a collect job that starts when every task has ended.
# Usage, from the repository checkout: examples/slurm/submit.sh [TASKS]
#   EXPERIMENT, PROFILE, OUT, PIX2PIX are passed on to both jobs (see eval-array.sbatch).
set -euo pipefail
TASKS=${1:-7}
export TASKS
JOBID=$(sbatch --parsable --export=ALL --array=0-$((TASKS - 1)) examples/slurm/eval-array.sbatch)
JOBID=${JOBID%%;*}  # --parsable prints "id" or "id;cluster"
sbatch --export=ALL --dependency=afterany:"$JOBID" examples/slurm/collect.sbatch
echo "array job $JOBID ($TASKS tasks) submitted, collect job queued after it"
