#!/usr/bin/env bash
# Faults in data-parallel training (docs/distributed.md), with tests/mpi/distributed_worker under
# Open MPI's mpirun:
#  1. rank 1 of 2 is killed with SIGKILL at the start of epoch 3: the job must end non-zero within
#     30 s, mpirun must say which rank died, and last.mcnn must hold the 2 completed epochs;
#  2. resuming from it with 3 ranks (another K) trains epochs 3..4 and ends with status 0;
#  3. rank 1 of 2 throws at the start of epoch 2: the worker's catch calls MPI_Abort, the job ends
#     non-zero within 30 s with the rank's message, and resuming with 1 rank finishes.
# Takes a few seconds.
#
#   bash scripts/test_distributed_faults.sh WORKER MPIEXEC
set -euo pipefail
worker=${1:?usage: test_distributed_faults.sh WORKER MPIEXEC}
mpiexec=${2:?usage: test_distributed_faults.sh WORKER MPIEXEC}
work=$(mktemp -d /tmp/minicnn-faults-XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# job RANKS ARGS...: the worker under mpirun, cut off after 60 s (status 124) if it hangs.
# --oversubscribe: more ranks than this machine's cores.
job() {
  local ranks=$1
  shift
  timeout 60 "$mpiexec" --oversubscribe -np "$ranks" "$worker" "$@"
}

# broken_job LOG SECONDS ARGS...: a job that must fail, not hang: non-zero, not the timeout's 124,
# within SECONDS.
broken_job() {
  local log=$1 limit=$2 start status=0
  shift 2
  start=$(date +%s)
  job "$@" >"$log" 2>&1 || status=$?
  local took=$(($(date +%s) - start))
  cat "$log"
  [[ $status != 0 ]] || fail "the job with a broken rank exited with status 0"
  [[ $status != 124 ]] || fail "the job with a broken rank hung (cut off after 60 s)"
  ((took <= limit)) || fail "the job with a broken rank took ${took} s to end, expected <= $limit"
  echo "ended with status $status after ${took} s"
}


echo "== 1. SIGKILL of rank 1 of 2 at the start of epoch 3"
mkdir -p "$work/kill"
broken_job "$work/kill.log" 30 2 "$work/kill" 4 kill 1 2
grep -qi "signal 9\|killed" "$work/kill.log" || fail "mpirun did not report the killed rank"
[[ -f $work/kill/last.mcnn ]] || fail "no last.mcnn after 2 completed epochs"
[[ ! -f $work/kill/final.mcnn ]] || fail "final.mcnn written by a job that was killed"
ls "$work/kill" | grep -qv '^last.mcnn$' && fail "files other than last.mcnn: $(ls "$work/kill")"

echo "== 2. resume with 3 ranks"
job 3 "$work/kill" 4 | tee "$work/resume.log"
grep -q "trained epochs 3..4 on 3 ranks" "$work/resume.log" || fail "the resumed job did not train epochs 3..4"
[[ -f $work/kill/final.mcnn ]] || fail "no final.mcnn after the resumed job"

echo "== 3. rank 1 of 2 throws at the start of epoch 2"
mkdir -p "$work/throw"
broken_job "$work/throw.log" 30 2 "$work/throw" 3 throw 1 1
grep -q "rank 1 of 2: distributed_worker: injected failure on rank 1 at epoch 2; ending every rank" \
  "$work/throw.log" || fail "the throwing rank's message is missing"
job 1 "$work/throw" 3 | tee "$work/resume1.log"
grep -q "trained epochs 2..3 on 1 ranks" "$work/resume1.log" || fail "resuming with 1 rank failed"
echo "PASS"
