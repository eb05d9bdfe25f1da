"""DCASS business status codes (band -700xxx). Declared once here; see docs/guides/dcass.md.

Where the public OMnet headers give a clearing code its number (-700070 trade not found, -700072
too much quantity, -700074 no position found) we keep it. The others are ours. Rejections that
are not DCASS-specific use the common codes of :mod:`gateway.clearing.errors`
(ACTING_FOR_OTHER, UNKNOWN_PARTICIPANT, OPERATOR_ONLY, INVALID_VALUE).
"""
from __future__ import annotations

from ..errors import ErrorCode, code

_M = "dcass"

UNKNOWN_SERIES = code(-700002, "UNKNOWN_SERIES", "Unknown series", _M)
SERIES_EXPIRED = code(-700003, "SERIES_EXPIRED", "The series has expired", _M)
UNKNOWN_ACCOUNT = code(-700004, "UNKNOWN_ACCOUNT", "Unknown account for this participant", _M)
ACCOUNT_NOT_OWN = code(-700005, "ACCOUNT_NOT_OWN", "The account is not the caller's", _M)
ACCOUNT_EXISTS = code(-700006, "ACCOUNT_EXISTS", "The participant already has an account with this id", _M)
ACCOUNT_TYPE_NOT_ALLOWED = code(-700007, "ACCOUNT_TYPE_NOT_ALLOWED",
                                "Participants may not open accounts of this type", _M)
NOT_CLEARING_MEMBER = code(-700008, "NOT_CLEARING_MEMBER",
                           "The participant is not a member of this clearing house", _M)
WRONG_CLEARING_HOUSE = code(-700009, "WRONG_CLEARING_HOUSE",
                            "The account belongs to another clearing house than the series", _M)
AFTER_INPUT_CUTOFF = code(-700010, "AFTER_INPUT_CUTOFF", "After the DCASS system input cut-off time", _M)
AFTER_GIVE_UP_CUTOFF = code(-700011, "AFTER_GIVE_UP_CUTOFF", "After the give-up/take-up cut-off time", _M)
INVALID_QUANTITY = code(-700012, "INVALID_QUANTITY", "Quantity must be a positive whole number of contracts", _M)
INVALID_PRICE = code(-700013, "INVALID_PRICE", "Price must be positive", _M)
GIVE_UP_NOT_FOUND = code(-700014, "GIVE_UP_NOT_FOUND", "Give-up not found", _M)
GIVE_UP_NOT_PENDING = code(-700015, "GIVE_UP_NOT_PENDING", "The give-up is no longer pending", _M)
GIVE_UP_TO_SELF = code(-700016, "GIVE_UP_TO_SELF", "A participant cannot give up to itself", _M)
ALLOCATION_MISMATCH = code(-700017, "ALLOCATION_MISMATCH",
                           "Allocated quantity differs from the quantity to allocate", _M)
TRADE_NOT_ADJUSTABLE = code(-700018, "TRADE_NOT_ADJUSTABLE",
                            "The trade cannot be adjusted (reversal trade or earlier business date)", _M)
NOT_TRANSITORY_ACCOUNT = code(-700019, "NOT_TRANSITORY_ACCOUNT",
                              "The trade is not in a daily/transitory account", _M)
NOT_GROSS_ACCOUNT = code(-700020, "NOT_GROSS_ACCOUNT", "Close-out is only for gross accounts", _M)
SAME_ACCOUNT = code(-700021, "SAME_ACCOUNT", "Source and destination account are the same", _M)
SAME_OPEN_CLOSE = code(-700022, "SAME_OPEN_CLOSE", "The open/close flag is already the requested one", _M)
EXERCISE_NOT_ALLOWED = code(-700023, "EXERCISE_NOT_ALLOWED",
                            "The series cannot be exercised by request (not an American-style option)", _M)
EXERCISE_NOT_FOUND = code(-700024, "EXERCISE_NOT_FOUND", "Exercise request not found", _M)
EXERCISE_NOT_PENDING = code(-700025, "EXERCISE_NOT_PENDING", "The exercise request is no longer pending", _M)
COVER_EXCEEDS_SHORT = code(-700027, "COVER_EXCEEDS_SHORT", "Covered quantity exceeds the short call position", _M)
NOT_A_STOCK_CALL = code(-700028, "NOT_A_STOCK_CALL", "Only short stock call option positions can be covered", _M)
TOO_MANY_ITEMS = code(-700029, "TOO_MANY_ITEMS", "Too many allocation items", _M)
UNKNOWN_UNDERLYING = code(-700030, "UNKNOWN_UNDERLYING", "Unknown underlying", _M)
UNKNOWN_CLEARING_HOUSE = code(-700031, "UNKNOWN_CLEARING_HOUSE", "Unknown clearing house", _M)
INVALID_ACCOUNT_ID = code(-700032, "INVALID_ACCOUNT_ID", "Account id must be 1-16 printable characters", _M)
INVALID_SEQUENCE_RANGE = code(-700033, "INVALID_SEQUENCE_RANGE", "Invalid sequence number range", _M)
INVALID_DEAL_COUNT = code(-700034, "INVALID_DEAL_COUNT",
                          "A deal injection must carry from 1 to max_deals_per_injection deals", _M)
TRADE_NOT_FOUND = code(-700070, "TRADE_NOT_FOUND", "Trade not found", _M)
QUANTITY_EXCEEDS_HELD = code(-700072, "QUANTITY_EXCEEDS_HELD", "More quantity than held or available", _M)
NO_POSITION = code(-700074, "NO_POSITION", "No position found", _M)

ALL = [v for v in list(globals().values()) if isinstance(v, ErrorCode)]
