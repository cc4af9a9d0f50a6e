#!/bin/sh
# Registers the runner on its first start (config kept in the /var/lib/baton-runner volume), then runs it.
# BATON_SERVER and BATON_RUNNER_REGISTRATION_TOKEN (or BATON_RUNNER_REGISTRATION_TOKEN_FILE) come from the
# environment; BATON_RUNNER_NAME and BATON_RUNNER_LABELS are optional.
set -eu
config=/var/lib/baton-runner/runner.json
if [ ! -f "$config" ]; then
  if [ -n "${BATON_RUNNER_REGISTRATION_TOKEN_FILE:-}" ]; then
    BATON_RUNNER_REGISTRATION_TOKEN="$(cat "$BATON_RUNNER_REGISTRATION_TOKEN_FILE")"
    export BATON_RUNNER_REGISTRATION_TOKEN
  fi
  baton runner register --config "$config" --work-dir /var/lib/baton-runner/work \
    --name "${BATON_RUNNER_NAME:-$(hostname)}" --labels "${BATON_RUNNER_LABELS:-}" \
    --max-parallel-tasks "${BATON_RUNNER_MAX_PARALLEL_TASKS:-1}"
  unset BATON_RUNNER_REGISTRATION_TOKEN
fi
exec baton runner start --config "$config" "$@"
