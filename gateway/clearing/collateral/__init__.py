"""CCMS: the collateral module of the clearing core (module name ``"ccms"``).

Collateral accounts per participant and clearing house (house, market maker, client), mapping of
DCASS accounts onto them, cash and non-cash collateral with dated haircut tables, margin coverage
with the cash ratio and RMB rules and the priority of use, margin calls, deposit and withdrawal
instructions with the 11:00 cut-off, reserve fund contributions, SEOCH covered calls, interest
and accommodation charges. Pure and deterministic: no I/O, no wall clock.

The rules and every choice made where the source is ambiguous: ``docs/guides/collateral.md``.
"""
from . import codes as _codes, messages as _messages
from .codes import *  # noqa: F401,F403 - the CCMS business codes
from .messages import *  # noqa: F401,F403 - commands, queries, answers, events
from .module import CollateralModule
from .params import Params

__all__ = ["CollateralModule", "Params", *_messages.__all__, *_codes.__all__]
