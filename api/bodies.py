"""Request bodies. Fields are plain strings: the application layer validates them, so the
API refuses bad text with the CLI's own words. Nobody names the actor here: it is the
token's staff member (extra fields are refused)."""

from pydantic import BaseModel, ConfigDict, Field

from domain.model import Fault, IntakeChannel, Motive


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewCase(Body):
    name: str = Field(description="the customer's name", examples=["Kim Minji"])
    phone: str = Field(description="the customer's phone", examples=["010-1234-5678"])
    channel: IntakeChannel
    motive: Motive
    what: str = Field(description="what happened", examples=["The cake arrived crushed"])
    rename: bool = Field(
        False,
        description="the phone is on file under another name: replace it with `name` "
        "(otherwise the name on file is kept and `name_kept` says so)",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Kim Minji",
                    "phone": "010-1234-5678",
                    "channel": "phone",
                    "motive": "compensation",
                    "what": "The cake arrived crushed",
                }
            ]
        },
    )


class Apology(Body):
    what: str = Field(examples=["Sorry your cake was crushed on the way"])


class Empathy(Body):
    customer_words: str = Field(examples=["It was for my son's birthday"])


class Cause(Body):
    cause: str = Field(examples=["The box slid in the van"])
    fault: Fault


class Remedy(Body):
    kind: str = Field(examples=["free_redo"], description="a remedy kind, e.g. partial_refund")
    terms: str | None = Field(None, examples=["a new cake delivered tomorrow by noon"])


class Offer(Body):
    plan: str = Field(examples=["A new cake tomorrow by noon, or half back"])
    options: list[Remedy] = Field(
        examples=[
            [{"kind": "free_redo", "terms": "a new cake tomorrow"}, {"kind": "partial_refund"}]
        ]
    )
    override_reason: str | None = Field(
        None, description="the owner's reason for offering outside the policy (owner only)"
    )


class CustomerResponse(Body):
    choice: str | None = Field(None, examples=["free_redo"])
    decline_reason: str | None = None


class Prevention(Body):
    measure: str = Field(examples=["Non-slip mats in both vans"])


class Satisfaction(Body):
    score: int = Field(examples=[5], description="1 to 5")
    comment: str | None = Field(None, examples=["The new cake was perfect"])


class Withdrawal(Body):
    reason: str = Field(examples=["Customer settled it in the shop"])


class Visit(Body):
    name: str | None = Field(None, examples=["Kim Minji"])
