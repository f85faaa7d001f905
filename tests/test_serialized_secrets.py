"""Issue 21 item 10: no serialisation of the four adapter classes shows a secret.

Each class is built with a secret in every place a user may put one: the key (a str, an
``AzureKeyCredential`` or a `HeaderCredential`), the endpoint's query (``?code=`` of an Azure
Function, ``?sig=`` of a signed URL), header values in ``model_kwargs`` and ``client_kwargs``
(``default_headers`` in both frameworks, LangChain's ``default_query``). Then every way the
object can be turned into text or data is scanned: ``repr``, ``str``, ``model_dump`` (python
and json modes), ``model_dump_json``, LangChain's ``dumps``/``dumpd``/``to_json`` and
identifying parameters, LlamaIndex's ``to_dict``/``to_json``. The fields themselves keep the
secrets (they are sent).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from langchain_core.load import dumpd, dumps

from azureinference import HeaderCredential
from langchain_azureinference import AzureAIChatCompletionsModel as LCChat
from langchain_azureinference import AzureAIEmbeddingsModel as LCEmbeddings
from llamaindex_azureinference import AzureAICompletionsModel as LIChat
from llamaindex_azureinference import AzureAIEmbeddingsModel as LIEmbeddings

SECRETS = {
    "key": "KEY-secret-0123456789abcdef",
    "code": "CODE-secret-0123456789abcdef",
    "sig": "SIG-secret-0123456789abcdef",
    "model_kwargs header": "MKHDR-secret-0123456789abcdef",
    "client_kwargs header": "CKHDR-secret-0123456789abcdef",
    "default_headers": "DFHDR-secret-0123456789abcdef",
    "default_query": "DFQRY-secret-0123456789abcdef",
}
ENDPOINT = (
    f"https://fn.azurewebsites.net/api/chat?code={SECRETS['code']}&sig={SECRETS['sig']}"
    "&api-version=2024-05-01-preview"
)
CREDENTIALS: dict[str, Callable[[], Any]] = {
    "str": lambda: SECRETS["key"],
    "AzureKeyCredential": lambda: AzureKeyCredential(SECRETS["key"]),
    "HeaderCredential": lambda: HeaderCredential("X-Gateway-Key", SECRETS["key"]),
}


def _common() -> dict[str, Any]:
    return {
        "endpoint": ENDPOINT,
        "model": "m",
        "model_kwargs": {"headers": {"X-Trace-Token": SECRETS["model_kwargs header"]}},
        "client_kwargs": {"headers": {"X-Other": SECRETS["client_kwargs header"]}},
    }


def _langchain(cls: Any, credential: Any) -> Any:
    return cls(
        credential=credential,
        default_headers={"X-Default": SECRETS["default_headers"]},
        default_query={"token": SECRETS["default_query"]},
        **_common(),
    )


def _llamaindex(cls: Any, credential: Any) -> Any:
    options = _common()
    options["model_name"] = options.pop("model")
    options["default_headers"] = {"X-Default": SECRETS["default_headers"]}
    return cls(credential=credential, **options)


def _shown_langchain(model: Any) -> dict[str, Any]:
    paths = {
        "repr": lambda: repr(model),
        "str": lambda: str(model),
        "model_dump": lambda: repr(model.model_dump()),
        "model_dump json mode": lambda: repr(model.model_dump(mode="json")),
        "model_dump_json": model.model_dump_json,
        "model_dump_json exclude_none": lambda: model.model_dump_json(exclude_none=True),
        "dumps": lambda: dumps(model),
        "dumps pretty": lambda: dumps(model, pretty=True),
        "dumpd": lambda: repr(dumpd(model)),
    }
    if isinstance(model, LCChat):  # Embeddings are not Serializable: dumps shows their repr
        paths["to_json"] = lambda: repr(model.to_json())
        paths["identifying params"] = lambda: repr(model._identifying_params)
        paths["ls params"] = lambda: repr(model._get_ls_params())
    return paths


def _shown_llamaindex(model: Any) -> dict[str, Any]:
    return {
        "repr": lambda: repr(model),
        "str": lambda: str(model),
        "model_dump": lambda: repr(model.model_dump()),
        "model_dump json mode": lambda: repr(model.model_dump(mode="json")),
        "model_dump_json": model.model_dump_json,
        "to_dict": lambda: repr(model.to_dict()),
        "to_json": model.to_json,
    }


BUILDS = [
    pytest.param(LCChat, _langchain, _shown_langchain, id="langchain-chat"),
    pytest.param(LCEmbeddings, _langchain, _shown_langchain, id="langchain-embeddings"),
    pytest.param(LIChat, _llamaindex, _shown_llamaindex, id="llamaindex-llm"),
    pytest.param(LIEmbeddings, _llamaindex, _shown_llamaindex, id="llamaindex-embeddings"),
]


@pytest.mark.parametrize("credential", list(CREDENTIALS), ids=list(CREDENTIALS))
@pytest.mark.parametrize(("cls", "build", "shown"), BUILDS)
def test_no_serialisation_shows_a_secret(cls: Any, build: Any, shown: Any, credential: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LlamaIndex's unknown client_kwargs warning etc.
        model = build(cls, CREDENTIALS[credential]())
    leaks = {}
    for path, show in shown(model).items():
        text = show()
        found = [what for what, secret in SECRETS.items() if secret in text]
        if found:
            leaks[path] = found
    assert leaks == {}
    # Hidden where shown, kept where used: the endpoint still holds its query.
    assert model.endpoint == ENDPOINT


@pytest.mark.parametrize(("cls", "build", "shown"), BUILDS[:2])
def test_langchain_dumps_keep_the_endpoint_host_and_name_what_is_hidden(
    cls: Any, build: Any, shown: Any
) -> None:
    model = build(cls, SECRETS["key"])
    data = model.model_dump(mode="json")
    assert data["endpoint"].startswith("https://fn.azurewebsites.net/api/chat?code=***&sig=***")
    assert "api-version=2024-05-01-preview" in data["endpoint"]
    assert data["model_kwargs"] == {"headers": {"X-Trace-Token": "***"}}
    assert data["credential"] == "**********"
    assert model.model_dump()["credential"].get_secret_value() == SECRETS["key"]


@pytest.mark.parametrize("credential", ["AzureKeyCredential", "HeaderCredential"])
def test_langchain_model_dump_json_of_a_credential_object_names_its_type(credential: str) -> None:
    model = _langchain(LCChat, CREDENTIALS[credential]())
    assert f'"credential":"<{credential}>"' in model.model_dump_json()
