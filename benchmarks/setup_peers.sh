#!/usr/bin/env bash
# Create benchmarks/.peers-venv with our package and every peer the benchmarks compare against.
# Usage (from the repository root or anywhere): bash benchmarks/setup_peers.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python3 -m venv "$here/.peers-venv"
"$here/.peers-venv/bin/pip" install -q --upgrade pip
"$here/.peers-venv/bin/pip" install -q -e "$root[all]" \
    azure-ai-inference langchain-azure-ai langchain-openai \
    llama-index-llms-azure-inference llama-index-embeddings-azure-inference \
    pyinstrument
"$here/.peers-venv/bin/pip" list 2>/dev/null | grep -iE \
    'langchain|llama-index-(core|llms|embeddings)|azure-ai-inference|openai|httpx|pydantic'
