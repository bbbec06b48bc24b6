"""The service's payload converter: its parts are made once, and a payload that fails
validation is refused in one line (not a workflow task failed over and over)."""

import dataclasses

import pytest
from temporalio.exceptions import ApplicationError

from domain.commands import Apologize
from infra.converter import DATA_CONVERTER, PayloadConverter, RefusingJSONConverter


def test_each_new_converter_shares_the_parts_made_once() -> None:
    """The SDK makes a new DataConverter, so a new PayloadConverter, twice per workflow
    activation; building the pydantic converter each time was 3 % of a loaded worker."""
    first, second = PayloadConverter(), PayloadConverter()
    assert first.converters[b"json/plain"] is second.converters[b"json/plain"]
    assert isinstance(first.converters[b"json/plain"], RefusingJSONConverter)
    clone = dataclasses.replace(DATA_CONVERTER)
    inner = clone.payload_converter._inner_payload_converter  # type: ignore[attr-defined]
    assert inner.converters[b"json/plain"] is first.converters[b"json/plain"]


def test_a_payload_that_fails_validation_is_refused_with_its_reason() -> None:
    converter = PayloadConverter()
    [payload] = converter.to_payloads([{"what": ""}])
    with pytest.raises(ApplicationError) as refused:
        converter.from_payloads([payload], [Apologize])
    assert refused.value.type == "InvalidInput" and refused.value.non_retryable
    assert refused.value.message == "invalid input: what: must not be empty"
    [ok] = converter.from_payloads(converter.to_payloads([Apologize(what="Sorry")]), [Apologize])
    assert ok == Apologize(what="Sorry")
