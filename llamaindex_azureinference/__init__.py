"""LlamaIndex integration for the Azure AI Model Inference API, on the ``azureinference`` core.

```python
from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel
```
"""

from __future__ import annotations

from .embeddings import AzureAIEmbeddingsModel
from .llms import AzureAICompletionsModel

__all__ = ["AzureAICompletionsModel", "AzureAIEmbeddingsModel"]
