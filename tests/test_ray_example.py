"""``examples/ray_embed.py`` on a local Ray cluster (2 CPUs, loopback only) against the emulator.

Skipped where Ray is not installed (``pip install -e '.[ray]'``; the ``dev`` extra has it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("ray.data", reason="Ray is not installed: pip install -e '.[ray]'")

import ray

from azureinference import Client
from azureinference.emulator import EmulatorConfig, running_emulator

EXAMPLES = Path(__file__).parents[1] / "examples"
TEXTS = [f"Passage {i} about {('rivers', 'mountains', 'cities')[i % 3]}." for i in range(240)]


def _example() -> ModuleType:
    sys.path.insert(0, str(EXAMPLES))  # the example imports its neighbour _endpoint
    try:
        spec = importlib.util.spec_from_file_location("ray_embed", EXAMPLES / "ray_embed.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture(scope="module")
def local_ray() -> Any:
    # Loopback only: the driver, the raylet and the workers all talk over 127.0.0.1.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.timeout(600)
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_workers_embed_and_label_a_corpus_within_the_quota(local_ray: Any) -> None:
    example = _example()
    # 60 requests a minute with time running 60 times faster: 60 a second, a bucket of 60.
    # The 244 requests of the job are 4 times the bucket: unpaced workers would be refused.
    config = EmulatorConfig(tokens_per_minute=200_000, requests_per_minute=60, time_scale=60)
    with running_emulator(config) as emu:
        rows = example.run(
            emu.endpoint,
            emu.key,
            TEXTS,
            embeddings_model="emulator-embed",
            chat_model="emulator-chat",
            tokens_per_minute=200_000 * 60,  # the quota in real minutes, shared by 2 workers
            requests_per_minute=60 * 60,
        )
        embed_use = emu.quota_usage("emulator-embed")
        chat_use = emu.quota_usage("emulator-chat")
        with Client(emu.endpoint, emu.key, model="emulator-embed") as client:
            expected = client.embed(TEXTS[:3], input_type="document").vectors
    assert [row["id"] for row in rows] == list(range(len(TEXTS)))  # nothing lost or repeated
    assert [row["text"] for row in rows] == TEXTS
    for row, vector in zip(rows, expected, strict=False):  # each vector is its own text's
        assert row["embedding"].tolist() == pytest.approx(vector, abs=1e-6)
    assert rows[7]["label"] == f"You said: One word for the topic of: {TEXTS[7]}"
    assert chat_use.requests == len(TEXTS)  # llm.batch: one request per text
    # Each worker kept to its half of the quota: the emulator refused (next to) nothing.
    assert chat_use.refused + embed_use.refused <= 0.02 * (chat_use.requests + embed_use.requests)
