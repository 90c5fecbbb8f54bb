#!/bin/sh
# Any CI: diff the build context against the snapshot of the last build, save the new snapshot, build.
# Keep $CTXDIFF_SNAPSHOTS between runs (your CI's cache or artifact of the last build). The prediction
# only means something when the builder keeps its layer cache between runs too (a persistent daemon, or
# --cache-from/--cache-to).
#   CONTEXT=.  DOCKERFILE=Dockerfile  CTXDIFF_SNAPSHOTS=<dir outside the context>  FAIL_ON_REBUILD=false
set -eu
CTXDIFF=${CTXDIFF:-"npx --yes ctxdiff@0.1.0"}
CONTEXT=${CONTEXT:-.}
DOCKERFILE=${DOCKERFILE:-$CONTEXT/Dockerfile}
CTXDIFF_SNAPSHOTS=${CTXDIFF_SNAPSHOTS:-${TMPDIR:-/tmp}/ctxdiff-snapshots}
snapshot=$CTXDIFF_SNAPSHOTS/context.ctxsnap
mkdir -p "$CTXDIFF_SNAPSHOTS"

status=0
if [ -f "$snapshot" ]; then
  # Exit 1: a step would be rebuilt; 2: an error. Either way the new snapshot is taken below.
  $CTXDIFF diff "$snapshot" "$CONTEXT" -f "$DOCKERFILE" --exit-code || status=$?
else
  echo "ctxdiff: no snapshot of an earlier build in $CTXDIFF_SNAPSHOTS yet; the next build is diffed against this one"
fi
$CTXDIFF snapshot "$CONTEXT" -f "$DOCKERFILE" -o "$snapshot"

docker build -f "$DOCKERFILE" "$CONTEXT"

if [ "$status" -eq 2 ] || { [ "$status" -eq 1 ] && [ "${FAIL_ON_REBUILD:-false}" = true ]; }; then exit "$status"; fi
