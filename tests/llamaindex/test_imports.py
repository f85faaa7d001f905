import subprocess
import sys

import llamaindex_azureinference


def test_public_names_are_pinned() -> None:
    assert llamaindex_azureinference.__all__ == [
        "AzureAICompletionsModel",
        "AzureAIEmbeddingsModel",
    ]


def test_importing_the_adapter_does_not_import_langchain() -> None:
    code = "import llamaindex_azureinference, sys; print('langchain_core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
