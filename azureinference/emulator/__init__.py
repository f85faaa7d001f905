"""A local emulator of the Azure AI Model Inference API, for offline runs and tests.

It serves the API's routes (chat completions, streamed or not; embeddings; image embeddings;
``/info``) under every endpoint form the core accepts, and the OpenAI-style routes (``/v1``,
``/openai/v1``, deployments; also model listing and legacy completions) with OpenAI's rules and
error shapes, so the ``openai`` SDK, ``azure-ai-inference``, ``langchain-openai`` and
LlamaIndex's OpenAI classes work against it too. It checks keys, applies the
``extra-parameters`` rules and each model's unsupported parameters as the service does, answers
deterministically (echoed text, tool calls whose arguments satisfy the tool's schema, JSON for
JSON mode and ``json_schema``, image descriptions, hash-derived embeddings), enforces
per-deployment quotas (tokens and requests per minute, ``x-ratelimit-*`` headers, 429 with
``retry-after-ms``) and plays faults on request (429, 5xx, content filter, dropped streams,
latency).

```python
from azureinference.emulator import Fault, running_emulator

with running_emulator() as emu:
    emu.inject(Fault.rate_limit(retry_after=1))
    ...  # point a client at emu.openai_v1_endpoint with credential=emu.key
```

From the shell: ``python -m azureinference.emulator --port 8000``. In pytest: the
``azure_inference_emulator`` fixture. Needs the ``emulator`` extra (uvicorn, starlette).
"""

from __future__ import annotations

from .app import EmulatorState, RecordedRequest, create_app
from .config import (
    EmulatorConfig,
    Fault,
    ModelSpec,
    ScriptedReply,
    config_from_file,
    default_models,
)
from .quota import QuotaUsage
from .schema_values import instance_of
from .server import Emulator, running_emulator
from .tokens import EmulatorTokenCredential

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "EmulatorState",
    "EmulatorTokenCredential",
    "Fault",
    "ModelSpec",
    "QuotaUsage",
    "RecordedRequest",
    "ScriptedReply",
    "config_from_file",
    "create_app",
    "default_models",
    "instance_of",
    "running_emulator",
]
