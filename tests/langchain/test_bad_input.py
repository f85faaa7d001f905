"""Issue 9, items 5 and 9 (LangChain): bad input is a clear error before any I/O; no secret shows.

Each case builds a model against a 127.0.0.1 endpoint that never answers and makes one call: it
must raise an error naming the parameter (`ConfigurationError` from the core, or pydantic's
``ValidationError`` for a constructor field), and nothing may connect.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps, loads
from langchain_core.messages import HumanMessage

from azureinference import ConfigurationError
from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel
from tests.conftest import assert_refused_before_io

SECRET = "s3cr3t-0123456789abcdef"
HI = [HumanMessage("hi")]


@dataclasses.dataclass
class _Point:
    x: int


Chat = AzureAIChatCompletionsModel
Emb = AzureAIEmbeddingsModel

# (id, class, constructor options, call or None, words the message names)
CASES: list[tuple[str, Any, dict[str, Any], Callable[[Any], Any] | None, str]] = [
    ("temperature nan call", Chat, {}, lambda m: m.invoke(HI, temperature=math.nan), "temperature"),
    (
        "temperature nan field",
        Chat,
        {"temperature": math.nan},
        lambda m: m.invoke(HI),
        "temperature",
    ),
    ("temperature str field", Chat, {"temperature": "hot"}, None, "temperature"),
    ("max_tokens float call", Chat, {}, lambda m: m.invoke(HI, max_tokens=1.5), "max_tokens"),
    ("seed str call", Chat, {}, lambda m: m.invoke(HI, seed="x"), "seed"),
    ("stop int call", Chat, {}, lambda m: m.invoke(HI, stop=5), "stop"),
    ("model_kwargs str", Chat, {"model_kwargs": "abc"}, None, "model_kwargs"),
    ("model_extras str", Chat, {"model_extras": "abc"}, None, "model_extras"),
    ("model_extras nan", Chat, {"model_extras": {"w": math.nan}}, lambda m: m.invoke(HI), "'w'"),
    ("model_extras object", Chat, {"model_extras": {"o": object()}}, lambda m: m.invoke(HI), "'o'"),
    (
        "model_kwargs header CRLF",
        Chat,
        {"model_kwargs": {"headers": {"x-k": SECRET + "\r\n"}}},
        lambda m: m.invoke(HI),
        "headers",
    ),
    (
        "client headers CRLF",
        Chat,
        {"client_kwargs": {"headers": {"x-k": "a\nb"}}},
        lambda m: m.invoke(HI),
        "headers",
    ),
    (
        "credential_scopes str",
        Chat,
        {"client_kwargs": {"credential_scopes": "https://s/.default"}},
        lambda m: m.invoke(HI),
        "credential_scopes",
    ),
    ("max_retries negative", Chat, {"max_retries": -1}, lambda m: m.invoke(HI), "max_retries"),
    ("timeout negative", Chat, {"timeout": -1}, lambda m: m.invoke(HI), "timeout"),
    (
        "credential CRLF",
        Chat,
        {"credential": SECRET + "\r\nx: 1"},
        lambda m: m.invoke(HI),
        "credential",
    ),
    (
        "endpoint userinfo",
        Chat,
        {"endpoint": f"https://u:{SECRET}@h.example/models"},
        None,
        "user name or password",
    ),
    ("bind_tools int", Chat, {}, lambda m: m.bind_tools([123]).invoke(HI), "123"),
    ("tool_choice int", Chat, {}, lambda m: m.invoke(HI, tool_choice=5), "tool_choice"),
    (
        "structured output int",
        Chat,
        {},
        lambda m: m.with_structured_output(int).invoke(HI),
        "schema is the class int, neither a pydantic class nor a TypedDict",
    ),
    (
        "structured output dataclass",
        Chat,
        {},
        lambda m: m.with_structured_output(_Point, method="function_calling").invoke(HI),
        "pass a pydantic class (v1 or v2), a TypedDict class",
    ),
    ("structured output str", Chat, {}, lambda m: m.with_structured_output("x"), "schema is a str"),
    (
        "structured output list",
        Chat,
        {},
        lambda m: m.with_structured_output([{"type": "object"}], method="json_mode"),
        "schema is a list",
    ),
    ("embed_documents str", Emb, {}, lambda m: m.embed_documents("abc"), "texts"),
    ("embed_documents ints", Emb, {}, lambda m: m.embed_documents([1, 2]), "input[0]"),
    ("embed_documents None item", Emb, {}, lambda m: m.embed_documents(["a", None]), "input[1]"),
    ("embed_query int", Emb, {}, lambda m: m.embed_query(123), "text must be a str"),
    ("embed_query list", Emb, {}, lambda m: m.embed_query(["a"]), "text must be a str"),
    ("embed_batch_size zero", Emb, {"embed_batch_size": 0}, None, "embed_batch_size"),
    ("embed_batch_size str", Emb, {"embed_batch_size": "many"}, None, "embed_batch_size"),
    ("dimensions zero", Emb, {"dimensions": 0}, lambda m: m.embed_documents(["a"]), "dimensions"),
    (
        "embeddings model_extras nan",
        Emb,
        {"model_extras": {"w": math.inf}},
        lambda m: m.embed_query("a"),
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


async def test_async_embed_documents_refuses_a_str(silent_endpoint: Any) -> None:
    url, connected = silent_endpoint
    with pytest.raises(ConfigurationError, match="texts"):
        await Emb(endpoint=url, credential="k").aembed_documents("abc")  # type: ignore[arg-type]
    assert not connected()


# ---- secrets in what LangChain shows ----

SECRET_ENDPOINT = f"https://my-func.azurewebsites.net/api?code={SECRET}"


def _shown(model: Any) -> list[str]:
    return [
        repr(model),
        str(model),
        dumps(model),
        str(dumpd(model)),
        str(model._identifying_params),
    ]


def test_secret_endpoint_and_headers_never_show() -> None:
    model = Chat(
        endpoint=SECRET_ENDPOINT,
        credential="k",
        model_kwargs={"headers": {"x-functions-key": SECRET}},
        client_kwargs={"headers": {"x-other": SECRET}},
    )
    for text in _shown(model):
        assert SECRET not in text
    assert model.endpoint == SECRET_ENDPOINT  # the field itself is unchanged, and used


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_a_dumped_model_loads_back_with_its_secrets_given() -> None:
    # (loads warns that it is in beta once per process: ignored, not expected)
    model = Chat(endpoint=SECRET_ENDPOINT, credential="k", model="m")
    text = dumps(model)
    assert SECRET not in text
    secrets = {"AZURE_INFERENCE_ENDPOINT": SECRET_ENDPOINT, "AZURE_INFERENCE_CREDENTIAL": "k"}
    copy = loads(
        text,
        secrets_map=secrets,
        valid_namespaces=["langchain_azureinference"],
        allowed_objects=[Chat],
    )
    assert copy.endpoint == SECRET_ENDPOINT
    assert copy.model_name == "m"


def test_embeddings_repr_hides_the_endpoint_secret() -> None:
    model = Emb(endpoint=SECRET_ENDPOINT, credential="k", model_kwargs={"headers": {"a": SECRET}})
    assert SECRET not in repr(model)
