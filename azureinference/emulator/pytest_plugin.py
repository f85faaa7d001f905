"""The pytest plugin's old place, kept for installs made before 0.3.0.

Their ``pytest11`` entry point names this module; the plugin is now the top-level
``azureinference_pytest`` (loading it imports nothing of ours), which this re-exports.
"""

from __future__ import annotations

from azureinference_pytest import _azure_inference_emulator_session, azure_inference_emulator

__all__ = ["_azure_inference_emulator_session", "azure_inference_emulator"]
