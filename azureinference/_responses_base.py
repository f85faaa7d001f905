"""`_ResponsesBase`: what `Client` and `AsyncClient` decide for Responses calls, without I/O.

It builds the request (`responses_api.build_responses_request`, with the client's model and
``extra_parameters``), reads the answer (`responses_api.parse_response`), prices the call for the
rate limiter, and keeps what the endpoint said about the Responses API: a model it refused (a
400 "not supported by the Responses API") or a route it does not have (404/405) is remembered,
and later calls for it raise `ResponsesNotSupportedError` at once, without a request. The send
loops (``respond`` / ``stream_response``) are in `client.py`. What was learned is kept in
``capabilities.responses``, so the sync and async clients of one adapter `Connection` share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx2

from ._base_client import Answer, _BaseClient
from .errors import (
    APIStatusError,
    ConfigurationError,
    MalformedResponseError,
    error_from_response,
)
from .ratelimit import Cost, chat_cost
from .requests import PreparedRequest
from .responses_api import (
    Response,
    ResponsesNotSupportedError,
    build_responses_request,
    is_responses_refusal,
    parse_response,
)

__all__ = ["_ResponsesBase"]

_ALL_MODELS = "*"  # the key of a refusal of the whole route


class _ResponsesBase(_BaseClient):
    """`_BaseClient` with the Responses API's decisions."""

    def responses_supported(self, model: str | None = None) -> bool | None:
        """What is known of the Responses API for ``model`` (default: the client's).

        Returns:
            True once an answer came through it, False once the endpoint refused it for the
            model (or has no Responses route), None when it was not tried yet.
        """
        known = self._responses_known(model)
        if known is None:
            return None
        return known is True

    def _responses_model(self, model: Any) -> str:
        return model or self.model or self.endpoint.deployment or ""

    def _responses_known(self, model: Any) -> Any:
        learned = self.capabilities.responses
        return learned.get(_ALL_MODELS) or learned.get(self._responses_model(model))

    def _responses_answered(self, model: Any) -> None:
        self.capabilities.responses[self._responses_model(model)] = True

    def _responses_request(
        self, input: str | Sequence[Any], stream: bool, params: dict[str, Any]
    ) -> PreparedRequest:
        """The request of a Responses call.

        Raises:
            ResponsesNotSupportedError: The endpoint refused the Responses API for this model
                before (``learned`` False).
            ConfigurationError: Bad parameters.
        """
        if params.get("model") is None and self.model is not None:
            params["model"] = self.model
        known = self._responses_known(params.get("model"))
        if isinstance(known, ResponsesNotSupportedError):
            raise known.again()
        params.setdefault("extra_parameters", self.extra_parameters)
        if "stream" in params:
            raise ConfigurationError(
                "stream is not a parameter of respond(): call stream_response() for a stream."
            )
        return build_responses_request(self.endpoint, input, stream=stream, **params)

    def _responses_cost(self, input: str | Sequence[Any], params: Mapping[str, Any]) -> Cost | None:
        messages = [{"role": "user", "content": input}] if isinstance(input, str) else input
        priced = {"tools": params.get("tools"), "max_tokens": params.get("max_output_tokens")}
        return self._cost(chat_cost, [m for m in messages if isinstance(m, Mapping)], priced)

    def _responses_answer(self, answer: Answer, cost: Cost | None, model: Any) -> Response:
        """The answer of a Responses call.

        Raises:
            ResponsesNotSupportedError: The service refused the Responses API for the model (or
                has no route); remembered.
            APIStatusError: Any other refusal, or a failed answer.
        """
        try:
            response = parse_response(*answer)
        except APIStatusError as err:
            refusal = self._responses_refused(err, model)
            if refusal is None:
                raise
            raise refusal from err
        self._responses_answered(model)
        if response.usage is not None:
            self._learn_usage(cost, response.usage.to_completion_usage())
        return response

    def _responses_stream_refused(
        self, response: httpx2.Response, content: bytes, model: Any
    ) -> None:
        """Raise what a streamed call's answer that is not a stream stands for.

        Raises:
            ResponsesNotSupportedError: As `_responses_answer`.
            APIStatusError: Another refusal, or an error in a JSON answer with status 200.
            MalformedResponseError: A JSON answer where a stream was asked for.
        """
        self._log_stream_body(response, content)
        if response.status_code >= 300:
            err = error_from_response(response.status_code, response.headers, content)
            refusal = self._responses_refused(err, model)
            raise refusal or err
        parse_response(response.status_code, response.headers, content)  # a failed answer
        ctype = response.headers.get("content-type", "")
        raise MalformedResponseError(
            "A streamed answer was expected (text/event-stream) but the service answered "
            f"{ctype!r}: {content[:300].decode('utf-8', 'replace')!r}",
            status_code=response.status_code,
            body=content[:300].decode("utf-8", "replace"),
        )

    def _responses_refused(
        self, err: APIStatusError, model: Any
    ) -> ResponsesNotSupportedError | None:
        """The chat-fallback outcome ``err`` stands for (remembered), or None."""
        reason = is_responses_refusal(err)
        if reason is None:
            return None
        name = self._responses_model(model)
        refusal = ResponsesNotSupportedError.from_refusal(err, name, reason)
        self.capabilities.responses[_ALL_MODELS if reason == "no_route" else name] = refusal
        return refusal
