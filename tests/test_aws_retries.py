"""What the AWS module lets botocore retry: only what can succeed (issue 10)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from engine.aws import _no_retry_of_what_cannot_succeed as veto
from engine.aws import translate


def answer(status: int, content_type: str) -> tuple[Any, dict[str, Any]]:
    return SimpleNamespace(status_code=status, headers={"content-type": content_type}), {}


@pytest.mark.parametrize(("status", "content_type", "decision"), [
    (500, "text/html; charset=utf-8", False),  # a stock moto server lacking the operation
    (404, "text/html", False),
    (500, "application/json", None),  # AWS's own InternalFailure: botocore retries it
    (503, "text/html", None),  # a gateway's moment of trouble
    (429, "application/json", None),  # throttling
    (200, "application/json", None),
])
def test_retry__by_answer(status: int, content_type: str, decision: bool | None) -> None:
    assert veto(attempts=1, response=answer(status, content_type),
                caught_exception=None) is decision


def test_retry__unreachable_endpoint__tried_twice_then_given_up() -> None:
    refused = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert veto(attempts=1, response=None, caught_exception=refused) is None
    assert veto(attempts=2, response=None, caught_exception=refused) is False


@pytest.mark.parametrize("exc", [ConnectTimeoutError(endpoint_url="http://x"),
                                 ConnectionClosedError(endpoint_url="http://x")])
def test_retry__timeouts_and_resets__left_to_botocore(exc: Exception) -> None:
    assert veto(attempts=5, response=None, caught_exception=exc) is None


def test_translate__html_page__one_line_naming_the_operation() -> None:
    from botocore.exceptions import ClientError

    page = "<!doctype html>\n<html><title>500 Internal Server Error</title>\n</html>\n"
    error = ClientError({"Error": {"Code": "500", "Message": page},
                         "ResponseMetadata": {"HTTPStatusCode": 500,
                                              "HTTPHeaders": {"content-type": "text/html"}}},
                        "ListTagsForResource")
    message = str(translate("ListTagsForResource", error))
    assert message.startswith("ListTagsForResource failed: HTTP 500: ")
    assert "does not implement ListTagsForResource" in message
    assert "<" not in message and "\n" not in message
