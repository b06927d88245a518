#!/usr/bin/env bash
# Lints template.yaml: cfn-lint (must pass) and `sam validate --lint` (when the SAM CLI can be
# installed). Tools missing from PATH are installed with pip into git-ignored venvs under .venv/.
set -euo pipefail
cd "$(dirname "$0")/../.."

export SAM_CLI_TELEMETRY=0
# The SAM transform resolves a region; no credentials or network are used.
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}

# venv_tool NAME PIP_SPEC: path of NAME, from PATH or from .venv/NAME (installed on first use).
venv_tool() {
    local name=$1 spec=$2 venv=.venv/$1
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return 0
    fi
    if [ ! -x "$venv/bin/$name" ]; then
        echo "$name not found; installing $spec into $venv" >&2
        python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet "$spec" >&2 || return 1
    fi
    echo "$venv/bin/$name"
}

cfn_lint=$(venv_tool cfn-lint 'cfn-lint>=1,<2')
echo "== $("$cfn_lint" --version)"
"$cfn_lint" template.yaml
echo "cfn-lint: template.yaml is clean"

if sam=$(venv_tool sam 'aws-sam-cli>=1.120,<2'); then
    echo "== $("$sam" --version)"
    "$sam" validate --lint --template-file template.yaml
else
    echo "sam validate skipped: the SAM CLI could not be installed with pip (see above)" >&2
fi
