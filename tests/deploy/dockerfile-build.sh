#!/usr/bin/env bash
# Replays the Dockerfile's build stage without an engine (dockerfile_build.py): the .dockerignore'd
# context, the restore layer from project files alone, the exact publish command, and the final
# stage's copy holding the ENTRYPOINT's dll.
#   tests/deploy/dockerfile-build.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK="$(mktemp -d /tmp/convservice-dockerfile.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ensure_tool python3 python3
timeout 1200 python3 "$(dirname "${BASH_SOURCE[0]}")/dockerfile_build.py" "$DEPLOY_REPO_ROOT" "$WORK"
echo "dockerfile-build: 1 passed, 0 failed"
