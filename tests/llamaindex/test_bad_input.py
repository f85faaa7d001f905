"""Issue 9, items 5, 9 and 13 (LlamaIndex): clear errors before any I/O; no secret shows.

Each case builds a model against a 127.0.0.1 endpoint that never answers and makes one call: it
must raise an error naming the parameter, and nothing may connect.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from azureinference import ConfigurationError
from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel
from tests.conftest import assert_refused_before_io

SECRET = "s3cr3t-0123456789abcdef"
HI = [ChatMessage(role="user", content="hi")]

LLM = AzureAICompletionsModel
Emb = AzureAIEmbeddingsModel

# (id, class, constructor options, call or None, words the message names)
CASES: list[tuple[str, Any, dict[str, Any], Callable[[Any], Any] | None, str]] = [
    ("chat str", LLM, {}, lambda m: m.chat("hello"), "messages"),
    ("chat ints", LLM, {}, lambda m: m.chat([1]), "messages"),
    ("chat_with_tools int", LLM, {}, lambda m: m.chat_with_tools([123], "hi"), "tools[0]"),
    ("chat_with_tools str", LLM, {}, lambda m: m.chat_with_tools("abc", "hi"), "tools"),
    ("temperature nan", LLM, {"temperature": math.nan}, lambda m: m.chat(HI), "temperature"),
    ("temperature nan call", LLM, {}, lambda m: m.chat(HI, temperature=math.inf), "temperature"),
    ("max_tokens str call", LLM, {}, lambda m: m.chat(HI, max_tokens="10"), "max_tokens"),
    ("model_extras str", LLM, {"model_extras": "abc"}, None, "model_extras"),
    ("model_extras nan", LLM, {"model_extras": {"w": math.nan}}, lambda m: m.chat(HI), "'w'"),
    (
        "model_kwargs header LF",
        LLM,
        {"model_kwargs": {"headers": {"x-k": SECRET + "\n"}}},
        lambda m: m.chat(HI),
        "headers",
    ),
    ("credential CRLF", LLM, {"credential": SECRET + "\r\nx: 1"}, None, "credential"),
    (
        "credential_scopes str",
        LLM,
        {"client_kwargs": {"credential_scopes": "https://s/.default"}},
        None,
        "credential_scopes",
    ),
    (
        "client max_retries str",
        LLM,
        {"client_kwargs": {"embed_batch_size": "3"}},
        None,
        "embed_batch_size",
    ),
    ("max_retries negative", LLM, {"max_retries": -1}, None, "max_retries"),
    (
        "endpoint userinfo",
        LLM,
        {"endpoint": f"https://u:{SECRET}@h.example/models"},
        None,
        "user name or password",
    ),
    ("embed text int", Emb, {}, lambda m: m.get_text_embedding(123), "text must be a str, not int"),
    ("embed text None", Emb, {}, lambda m: m.get_text_embedding(None), "text must be a str"),
    ("embed texts ints", Emb, {}, lambda m: m.get_text_embedding_batch([1, 2]), "input[0]"),
    ("embed query None", Emb, {}, lambda m: m.get_query_embedding(None), "query must be a str"),
    (
        "embed query int",
        Emb,
        {},
        lambda m: m.get_query_embedding(1),
        "query must be a str, not int",
    ),
    (
        "embed query list",
        Emb,
        {},
        lambda m: m.get_query_embedding(["a"]),
        "query must be a str, not list",
    ),
    ("embed_batch_size zero", Emb, {"embed_batch_size": 0}, None, "embed_batch_size"),
    ("embed_batch_size negative", Emb, {"embed_batch_size": -1}, None, "embed_batch_size"),
    ("dimensions zero", Emb, {"dimensions": 0}, lambda m: m.get_text_embedding("a"), "dimensions"),
    (
        "embeddings model_extras inf",
        Emb,
        {"model_extras": {"w": math.inf}},
        lambda m: m.get_text_embedding("a"),
        "'w'",
    ),
]


@pytest.mark.parametrize(
    ("cls", "options", "call", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_clear_error_before_any_io(
    silent_endpoint: Any, cls: Any, options: dict[str, Any], call: Any, names: str
) -> None:
    assert_refused_before_io(silent_endpoint, cls, options, call, names, SECRET)


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda m: m.aget_text_embedding(None), "text must be a str, not NoneType"),
        (lambda m: m.aget_query_embedding(1), "query must be a str, not int"),
    ],
)
async def test_async_one_text_embeddings_name_the_argument(
    silent_endpoint: Any, call: Any, names: str
) -> None:
    url, connected = silent_endpoint
    with pytest.raises(ConfigurationError) as info:
        await call(Emb(endpoint=url, credential="k"))
    assert names in str(info.value)
    assert not connected()


# ---- secrets in what LlamaIndex shows ----

SECRET_ENDPOINT = f"https://my-func.azurewebsites.net/api?code={SECRET}"


@pytest.mark.parametrize("cls", [LLM, Emb])
def test_secret_endpoint_and_headers_never_show(cls: Any) -> None:
    model = cls(
        endpoint=SECRET_ENDPOINT,
        credential="k",
        model_kwargs={"headers": {"x-functions-key": SECRET}},
        client_kwargs={"headers": {"x-other": SECRET}},
    )
    for text in (repr(model), str(model), model.to_json(), str(model.to_dict())):
        assert SECRET not in text
    assert model.endpoint == SECRET_ENDPOINT  # the field itself is unchanged, and used


_TOKENS: list[str] = []  # what the credential hands out; module state, so not in a pickle


class _Token:
    def __init__(self, token: str) -> None:
        self.token = token
        self.expires_on = 2**40


class _TokenCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> _Token:
        return _Token(_TOKENS[-1])


def test_a_pickled_llm_carries_the_credential_not_its_cached_token(emu: Any) -> None:
    _TOKENS.append(emu.key)  # the emulator takes its key as a bearer token
    llm = LLM(endpoint=emu.endpoint, credential=_TokenCredential(), model="emulator-chat")
    llm.chat(HI)
    assert llm._client.auth._token == emu.key
    data = pickle.dumps(llm)
    assert emu.key.encode() not in data
    assert b"_TokenCredential" in data
    assert isinstance(pickle.loads(data)._client.auth._credential, _TokenCredential)
