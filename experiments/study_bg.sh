#!/bin/bash
# Run a study step from a frozen checkout of the code, so that edits to the
# working tree during a multi-hour run cannot change (or break) it, with the
# run folders and results in this checkout (runs resume, results get committed).
#   bash experiments/study_bg.sh accuracy.py            # or run_study.py, stability.py --dataset shapes, ...
# The frozen checkout is a git worktree at the current HEAD (../study).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
frozen="${LFICAM_STUDY_CHECKOUT:-$here/../study}"
if [ ! -d "$frozen" ]; then git -C "$here" worktree add --detach "$frozen" HEAD; fi
cd "$frozen/experiments"
exec env PYTHONPATH="$frozen" LFICAM_STUDY_REPO="$here" "$here/.venv/bin/python" "$@" \
    --runs "$here/experiments/runs" --results "$here/experiments/results"
