"""What the real-client tests share: the models they name, and a tokenizer that needs no download.

tiktoken downloads its encodings on first use; a test must neither try that (pytest-socket would
refuse it) nor read a cached copy from this machine. `byte_encoding` is a real tiktoken
``Encoding`` over single bytes, built here, for the code paths of langchain-openai and LlamaIndex
that tokenize.
"""

from __future__ import annotations

from azureinference.emulator import EmulatorConfig, ModelSpec, default_models

CHAT = "gpt-4o-mini"
EMBED = "text-embedding-3-small"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city"}},
            "required": ["city"],
        },
    },
}

JOKE_PROMPT = (
    "Tell me a joke about cats. Return the result as a JSON with 'setup' and 'punchline' keys. "
    "Return nothing other than JSON."
)


def clients_config() -> EmulatorConfig:
    """The models OpenAI clients know by name (LlamaIndex checks them), then the defaults."""
    return EmulatorConfig(
        models=[
            ModelSpec(CHAT, provider="OpenAI"),
            ModelSpec(EMBED, kind="embeddings", provider="OpenAI", dimensions=1536),
            *default_models(),
        ]
    )


def byte_encoding() -> object:
    """A tiktoken ``Encoding`` whose tokens are the 256 bytes: no file, no download."""
    import tiktoken

    return tiktoken.Encoding(
        name="emulator_test_bytes",
        pat_str=r"""'s|'t|'re|'ve|'m|'ll|'d| ?\w+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""",
        mergeable_ranks={bytes([i]): i for i in range(256)},
        special_tokens={},
    )
