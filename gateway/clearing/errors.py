"""Business status codes and the typed error the clearing core raises.

Every rejection the core can give is declared once here, through :func:`code`, by the module
that owns it (DCASS 7xxxxx, CCMS 8xxxxx, OTC Clear 9xxxxx, emulator/operator 6xxxxx). Negative
numbers are rejections, positive numbers are success or information (OMnet habit). The protocol
reference (docs/protocol.md) lists them all from :data:`REGISTRY`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorCode:
    number: int
    name: str
    text: str
    module: str

    def __int__(self) -> int:  # pragma: no cover - convenience
        return self.number


REGISTRY: dict[int, ErrorCode] = {}
BY_NAME: dict[str, ErrorCode] = {}


def code(number: int, name: str, text: str, module: str) -> ErrorCode:
    """Declare a business status code. Numbers and names must be unique."""
    if number in REGISTRY and REGISTRY[number].name != name:
        raise ValueError(f"business code {number} declared twice ({REGISTRY[number].name}, {name})")
    if name in BY_NAME and BY_NAME[name].number != number:
        raise ValueError(f"business code name {name} declared twice")
    ec = ErrorCode(number, name, text, module)
    REGISTRY[number] = ec
    BY_NAME[name] = ec
    return ec


class ClearingError(Exception):
    """A business rejection. ``field`` names the request field at fault (for the byte offset)."""

    def __init__(self, error: ErrorCode, detail: str = "", field: str | None = None):
        self.error = error
        self.detail = detail
        self.field = field
        self.events: list = []  # events of business time passing before the rejected command ran
        super().__init__(f"{error.name} ({error.number}): {error.text}" + (f": {detail}" if detail else ""))


# Codes shared by every module of the core.
OK = code(700001, "OK", "Request accepted", "common")
NOT_AUTHORISED = code(-600001, "NOT_AUTHORISED", "Not authorised for this function or data", "common")
OPERATOR_ONLY = code(-600002, "OPERATOR_ONLY", "Only the operator may do this", "common")
ACTING_FOR_OTHER = code(-600003, "ACTING_FOR_OTHER", "A participant may not act for another participant", "common")
INVALID_VALUE = code(-600004, "INVALID_VALUE", "A field has an invalid value", "common")
NOT_BUSINESS_DAY = code(-600005, "NOT_BUSINESS_DAY", "The date is not a business day", "common")
TIME_BACKWARDS = code(-600006, "TIME_BACKWARDS", "Business time may not move backwards", "common")
UNKNOWN_PARTICIPANT = code(-600007, "UNKNOWN_PARTICIPANT", "Unknown participant", "common")
UNSUPPORTED_COMMAND = code(-600008, "UNSUPPORTED_COMMAND", "This request is not supported by the clearing system", "common")
