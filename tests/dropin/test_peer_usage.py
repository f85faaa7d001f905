"""The peers' documented usage, unchanged but for the import, against the emulator (issue 15).

The snippets are those of ``langchain-azure-ai`` (``langchain_azure_ai.chat_models.inference``)
and ``llama-index-llms-azure-inference`` / ``llama-index-embeddings-azure-inference``, with the
emulator's endpoint, key and model names in place of a real deployment. Each numbered item of
the issue has its own test here or in ``test_arguments.py`` (items 3, 4), ``test_profiles.py``
(item 11) and ``test_packaging.py`` (item 12).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import HumanMessage, SystemMessage
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from azureinference import AuthenticationError, BadRequestError, UnsupportedParameterError
from azureinference.emulator import Emulator

# The one line a user changes:
#   from langchain_azure_ai.chat_models.inference import AzureAIChatCompletionsModel
#   from langchain_azure_ai.embeddings.inference import AzureAIEmbeddingsModel
#   from llama_index.llms.azure_inference import AzureAICompletionsModel
#   from llama_index.embeddings.azure_inference import AzureAIEmbeddingsModel
from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel
from llamaindex_azureinference import AzureAICompletionsModel
from llamaindex_azureinference import AzureAIEmbeddingsModel as LIEmbeddingsModel

ROOT = Path(__file__).resolve().parents[2]


class Joke(BaseModel):
    joke: str


# ---- the peers' README code -----------------------------------------------------------------


def test_langchain_peer_readme(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    model = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model="emulator-chat",
    )
    messages = [
        SystemMessage(content="Translate the following from English into Italian"),
        HumanMessage(content="hi!"),
    ]
    answer = model.invoke(messages)
    assert answer.content == "You said: hi!"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["total_tokens"] > 0
    streamed = None
    for chunk in model.stream(messages):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None
    assert streamed.usage_metadata == answer.usage_metadata
    joke = model.with_structured_output(Joke, method="json_schema").invoke("Tell me a joke")
    assert isinstance(joke, Joke)
    embeddings = AzureAIEmbeddingsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-embed"
    )
    assert len(embeddings.embed_query("hi")) == 1024


def test_llamaindex_peer_readme(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-chat", temperature=0
    )
    resp = llm.chat(messages=[ChatMessage(role="user", content="Who is Paul Graham?")])
    assert resp.message.content == "You said: Who is Paul Graham?"
    usage = resp.additional_kwargs  # as llama-index-llms-openai reports it
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    *_, last = llm.stream_chat([ChatMessage(role="user", content="count to 3")])
    assert last.additional_kwargs["completion_tokens"] > 0  # usage at a stream's end too
    assert llm.complete("hi").text == "You said: hi"
    embed_model = LIEmbeddingsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-embed"
    )
    assert len(embed_model.get_text_embedding("hi")) == 1024


# ---- items 1, 2: the peers' metadata keys and raw, next to the OpenAI packages' ----------------


def test_langchain_metadata_has_the_peers_keys_and_chatopenais(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    model = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-chat"
    )
    answer = model.invoke("hi")
    meta = answer.response_metadata
    assert meta["model"] == meta["model_name"] == "emulator-chat"  # the peer's, ChatOpenAI's
    usage = meta["token_usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    result = model.generate([[HumanMessage(content="hi")]])
    assert result.llm_output is not None
    assert result.llm_output["model"] == result.llm_output["model_name"] == "emulator-chat"
    assert result.llm_output["token_usage"]["input_tokens"] > 0


def test_llamaindex_raw_is_the_answer_as_a_dict(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-chat"
    )
    resp = llm.chat([ChatMessage(role="user", content="hi")])
    assert isinstance(resp.raw, dict)
    assert resp.raw["usage"]["total_tokens"] > 0  # as with the peer
    assert resp.raw["choices"][0]["message"]["content"] == "You said: hi"
    chunks = list(llm.stream_chat([ChatMessage(role="user", content="hi")]))
    assert all(isinstance(c.raw, dict) for c in chunks)
    assert any(c.raw.get("usage") for c in chunks)


# ---- item 5: a refused value is a bad request quoting the service; the same local checks ------


@pytest.mark.parametrize(("argument", "value"), [("temperature", 5), ("max_tokens", -1)])
def test_both_adapters_refuse_the_same_values_before_any_request(
    azure_inference_emulator: Emulator, argument: str, value: Any
) -> None:
    emu = azure_inference_emulator
    common = {"endpoint": emu.endpoint, "credential": emu.key, argument: value}
    with pytest.raises(ValueError, match=argument):
        AzureAIChatCompletionsModel(model="emulator-chat", **common)
    with pytest.raises(ValueError, match=argument):
        AzureAICompletionsModel(model_name="emulator-chat", **common)
    assert not emu.requests


def test_a_refused_value_is_not_called_unsupported(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-chat"
    )
    with pytest.raises(BadRequestError) as info:
        llm.invoke("hi", temperature=5)  # per call: sent, and refused by the service
    err = info.value
    assert isinstance(err, ModelInvalidRequestError)
    assert not isinstance(err, UnsupportedParameterError)
    assert (err.status_code, err.param) == (422, "temperature")
    assert "temperature must be a number between 0 and 2" in str(err)
    assert "not support" not in str(err)
    li = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-chat"
    )
    with pytest.raises(BadRequestError, match="between 0 and 2"):
        li.complete("hi", temperature=5)


def test_an_unsupported_parameter_is_called_so(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-limited", seed=1
    )
    with pytest.raises(UnsupportedParameterError, match="does not support the parameter 'seed'"):
        llm.invoke("hi")


# ---- item 6: the model name nobody gave ------------------------------------------------------


def test_llamaindex_names_the_model_from_the_first_answer(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(endpoint=emu.url, credential=emu.key)  # a serverless root
    embed = LIEmbeddingsModel(endpoint=emu.url, credential=emu.key)
    assert not emu.requests  # nothing fetched while constructing
    assert llm.metadata.model_name == "unknown"
    assert embed.model_name == "unknown"
    llm.complete("hi")
    embed.get_text_embedding("hi")
    assert llm.metadata.model_name == "emulator-chat"
    assert embed.model_name == "emulator-embed"
    assert [r.path.rsplit("/", 1)[-1] for r in emu.requests] == ["completions", "embeddings"]
    assert "model" not in emu.requests[-1].json  # the name is known, not sent


async def test_llamaindex_names_the_model_from_a_streamed_answer(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(endpoint=emu.url, credential=emu.key)
    chunks = [r async for r in await llm.astream_complete("hi")]
    assert chunks[-1].text == "You said: hi"
    assert llm.metadata.model_name == "emulator-chat"


def test_llamaindex_names_the_model_from_info_when_asked(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(endpoint=emu.url, credential=emu.key)
    info = llm.get_model_info()
    assert info is not None
    assert llm.metadata.model_name == info.model_name == "emulator-chat"
    embed = LIEmbeddingsModel(endpoint=emu.url, credential=emu.key)
    embed_info = embed.get_model_info()
    assert embed_info is not None
    assert embed.model_name == embed_info.model_name


# ---- item 7: json_schema refused, then tools refused ----------------------------------------


def test_structured_output_says_both_refusals(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-limited"
    )
    with pytest.raises(UnsupportedParameterError) as info:
        llm.with_structured_output(Joke, method="json_schema").invoke("a joke")
    text = str(info.value)
    assert "json_schema structured output was refused" in text
    assert "the fallback through a forced tool call was refused too" in text
    li = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-limited"
    )
    with pytest.raises(UnsupportedParameterError) as info:
        li.structured_predict(Joke, PromptTemplate("a joke"))
    text = str(info.value)
    assert "json_schema structured output was refused" in text
    assert "the fallback through function calling was refused too" in text


# ---- item 8: a loopback endpoint without a credential ---------------------------------------


def test_a_missing_credential_is_named_for_a_loopback_endpoint(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(endpoint=emu.endpoint, model="emulator-chat")
    with pytest.raises(AuthenticationError, match="No credential given"):
        llm.invoke("hi")
    with pytest.raises(AuthenticationError, match="AZURE_INFERENCE_CREDENTIAL"):
        list(llm.stream("hi"))
    li = AzureAICompletionsModel(endpoint=emu.endpoint, model_name="emulator-chat")
    with pytest.raises(AuthenticationError, match="No credential given"):
        li.complete("hi")


async def test_a_missing_credential_is_named_async(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    li = AzureAICompletionsModel(endpoint=emu.endpoint, model_name="emulator-chat")
    with pytest.raises(AuthenticationError, match="No credential given"):
        await li.acomplete("hi")


def test_a_wrong_key_is_not_called_missing(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential="wrong", model="emulator-chat"
    )
    with pytest.raises(AuthenticationError) as info:
        llm.invoke("hi")
    assert "No credential given" not in str(info.value)


# ---- item 10: serialization ------------------------------------------------------------------


def test_serialization_round_trip_with_the_documented_line(
    azure_inference_emulator: Emulator,
) -> None:
    # In a process of its own: langchain-core warns about its beta ``loads`` once per process,
    # and other tests expect that warning.
    emu = azure_inference_emulator
    code = f"""
import warnings
from langchain_core.load import dumps, loads
from langchain_azureinference import AzureAIChatCompletionsModel

warnings.simplefilter("ignore")
llm = AzureAIChatCompletionsModel(
    endpoint={emu.endpoint!r}, credential={emu.key!r}, model="emulator-chat", temperature=0.1
)
text = dumps(llm)
assert {emu.key!r} not in text
# The README's line:
llm = loads(
    text,
    allowed_objects=[AzureAIChatCompletionsModel],
    valid_namespaces=["langchain_azureinference"],
    secrets_map={{"AZURE_INFERENCE_CREDENTIAL": {emu.key!r}}},
)
assert type(llm) is AzureAIChatCompletionsModel and llm.temperature == 0.1
print(llm.invoke("hi").content)
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "You said: hi"


# ---- the peers' constructors (when installed): every argument is taken ---------------------


def test_every_langchain_peer_field_is_an_argument_here() -> None:
    peer = pytest.importorskip("langchain_azure_ai.chat_models.inference")
    ours = AzureAIChatCompletionsModel.model_fields
    aliases = {f.alias for f in ours.values() if f.alias}
    missing = [
        name
        for name, field in peer.AzureAIChatCompletionsModel.model_fields.items()
        if name not in ours and (field.alias or name) not in aliases
    ]
    assert not missing


def test_every_llamaindex_peer_argument_is_an_argument_here(
    azure_inference_emulator: Emulator,
) -> None:
    peer = pytest.importorskip("llama_index.llms.azure_inference")
    emu = azure_inference_emulator
    parameters = inspect.signature(peer.AzureAICompletionsModel.__init__).parameters
    names = [p for p in parameters if p not in ("self", "kwargs")]
    values: dict[str, Any] = {
        "endpoint": emu.endpoint,
        "credential": emu.key,
        "temperature": 0,
        "max_tokens": 10,
        "model_name": "emulator-chat",
        "api_version": "2024-05-01-preview",
        "client_kwargs": {"retry_total": 0},
    }
    given: dict[str, Any] = {name: values.get(name, parameters[name].default) for name in names}
    llm = AzureAICompletionsModel(**given)
    assert llm.complete("hi").text == "You said: hi"
