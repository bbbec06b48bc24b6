"""The data converter every client and worker of the service uses: pydantic JSON, with a
payload that fails validation turned into a refusal instead of a stuck workflow task."""

import dataclasses
from typing import Any

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)
from temporalio.exceptions import ApplicationError

from infra.settings import explain


class RefusingJSONConverter(PydanticJSONPlainPayloadConverter):
    """A payload that fails validation raises a non-retryable ApplicationError. The SDK
    then fails what carried it: a workflow started with bad input (e.g. a NUL in the
    customer's name sent with the Temporal CLI) fails at once with one line, where a plain
    ValidationError would fail its workflow task over and over, leaving the case stuck."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as err:
            raise ApplicationError(
                f"invalid input: {explain(err)}", type="InvalidInput", non_retryable=True
            ) from None


# Made once: the SDK builds a new PayloadConverter each time it gives a converter its
# serialization context (several times per activation; 3 % of a loaded worker's CPU when
# each built its own parts), and these parts hold no state.
_CONVERTERS = tuple(
    RefusingJSONConverter() if isinstance(c, JSONPlainPayloadConverter) else c
    for c in DefaultPayloadConverter.default_encoding_payload_converters
)


class PayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(*_CONVERTERS)


DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


def data_converter(codec: PayloadCodec | None) -> DataConverter:
    """The service's converter, with payloads sealed by `codec` when there is one."""
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec)
