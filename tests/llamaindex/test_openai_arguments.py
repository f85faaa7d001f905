"""llama-index's OpenAI classes' arguments, taken as they mean there (a user switching keeps them).

``api_base`` (``base_url``), ``additional_kwargs`` (``model_kwargs``), ``default_headers``
(every request, values hidden wherever the model is shown), ``strict`` (strict tools),
``reuse_client`` (accepted: a pool per event loop is always reused), and ``logprobs`` /
``top_logprobs`` (``ChatResponse.logprobs``, streamed too).
"""

from __future__ import annotations

import json
import pickle
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from azureinference import ConfigurationError
from azureinference.emulator import Emulator
from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

GATEWAY_KEY = "gw-S3cret-value"


def _shown(model: object) -> str:
    return repr(model) + str(model.to_dict()) + model.to_json()  # type: ignore[attr-defined]


def test_the_llm_takes_openais_arguments(emu: Emulator) -> None:
    llm = AzureAICompletionsModel(
        api_base=emu.openai_v1_endpoint,
        api_key=emu.key,
        model="emulator-chat",
        additional_kwargs={"user": "user-1"},
        default_headers={"x-gateway-key": GATEWAY_KEY},
        reuse_client=False,
    )
    emu.reset()
    assert llm.chat([ChatMessage(role="user", content="Hi")]).message.content == "You said: Hi"
    sent = emu.requests[-1]
    assert sent.path.endswith("/openai/v1/chat/completions")
    assert sent.json["user"] == "user-1"
    assert sent.headers["x-gateway-key"] == GATEWAY_KEY
    assert GATEWAY_KEY not in _shown(llm)
    again = pickle.loads(pickle.dumps(llm))  # an IngestionPipeline worker's copy
    again.chat([ChatMessage(role="user", content="Hi")])
    assert emu.requests[-1].headers["x-gateway-key"] == GATEWAY_KEY


def test_strict_tools(emu: Emulator) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    llm = AzureAICompletionsModel(
        base_url=emu.openai_v1_endpoint, api_key=emu.key, model="emulator-chat", strict=True
    )
    emu.reset()
    llm.chat_with_tools([FunctionTool.from_defaults(add)], user_msg="Add 1 and 2")
    function = emu.requests[-1].json["tools"][0]["function"]
    assert function["strict"] is True
    assert function["parameters"]["additionalProperties"] is False
    assert function["parameters"]["required"] == ["a", "b"]


def test_the_embedder_takes_openais_arguments(emu: Emulator) -> None:
    embedder = AzureAIEmbeddingsModel(
        api_base=emu.openai_v1_endpoint,
        api_key=emu.key,
        model="emulator-embed",
        additional_kwargs={"user": "user-2"},
        default_headers={"x-gateway-key": GATEWAY_KEY},
        reuse_client=True,
    )
    emu.reset()
    assert len(embedder.get_text_embedding("a text")) > 0
    sent = emu.requests[-1]
    assert sent.json["user"] == "user-2"
    assert sent.headers["x-gateway-key"] == GATEWAY_KEY
    assert GATEWAY_KEY not in _shown(embedder)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        (
            {"api_base": "http://127.0.0.1:9/openai/v1", "base_url": "http://127.0.0.1:9/v1"},
            "api_base",
        ),
        ({"additional_kwargs": {"user": "a"}, "model_kwargs": {"user": "b"}}, "additional_kwargs"),
        ({"reuse_client": "yes"}, "reuse_client"),
    ],
)
def test_conflicting_or_bad_openai_arguments_are_named(
    kwargs: dict[str, object], named: str
) -> None:
    kwargs = {"endpoint": "http://127.0.0.1:9/openai/v1", "credential": "k", **kwargs}
    if "api_base" in kwargs:
        del kwargs["endpoint"]
    for cls in (AzureAICompletionsModel, AzureAIEmbeddingsModel):
        with pytest.raises(ConfigurationError, match=named):
            cls(**kwargs)


# ---- logprobs: a local server answers with them (the emulator has none) ---------------------


def _token(text: str) -> dict[str, Any]:
    alternatives = [{"token": text, "logprob": -0.1, "bytes": list(text.encode())}]
    alternatives.append({"token": "x", "logprob": -2.5, "bytes": [120]})
    return {
        "token": text,
        "logprob": -0.1,
        "bytes": list(text.encode()),
        "top_logprobs": alternatives,
    }


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: ClassVar[list[Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if body.get("stream"):
            events = [
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "model": "m",
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"content": text},
                            "logprobs": {"content": [_token(text)]},
                        }
                    ],
                }
                for text in ("Hel", "lo")
            ]
            data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            kind = "text/event-stream"
        else:
            message = {"role": "assistant", "content": "Hello"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            choice["logprobs"] = {"content": [_token("Hel"), _token("lo")]}
            data = json.dumps({"id": "c", "object": "chat.completion", "choices": [choice]})
            kind = "application/json"
        raw = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client closing its kept-alive connection at the end: not the test's concern


def test_logprobs_as_llamaindex_reads_them() -> None:
    server = _Server(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        llm = AzureAICompletionsModel(
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            api_key="k",
            model="m",
            logprobs=True,
            top_logprobs=2,
        )
        answer = llm.chat([ChatMessage(role="user", content="Hi")])
        assert (_Answers.bodies[-1]["logprobs"], _Answers.bodies[-1]["top_logprobs"]) == (True, 2)
        assert answer.logprobs is not None
        assert [[(p.token, p.logprob) for p in token] for token in answer.logprobs] == [
            [("Hel", -0.1), ("x", -2.5)],
            [("lo", -0.1), ("x", -2.5)],
        ]
        assert answer.logprobs[0][0].bytes == list(b"Hel")
        streamed = list(llm.stream_chat([ChatMessage(role="user", content="Hi")]))
        per_chunk = [r.logprobs for r in streamed if r.logprobs]
        assert [[p.token for p in chunk[0]] for chunk in per_chunk] == [["Hel", "x"], ["lo", "x"]]
    finally:
        server.shutdown()
        server.server_close()
