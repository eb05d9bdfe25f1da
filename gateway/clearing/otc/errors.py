"""Business status codes of OTC Clear settlement (band -900xxx).

Every distinct rejection has its own code; nothing is changed when one is raised. Common codes
(NOT_AUTHORISED, ACTING_FOR_OTHER, OPERATOR_ONLY, UNKNOWN_PARTICIPANT, NOT_BUSINESS_DAY) come from
:mod:`gateway.clearing.errors` and are reused for the situations they name.
"""
from __future__ import annotations

from ..errors import code

M = "otc"

UNKNOWN_TRADE = code(-900001, "OTC_UNKNOWN_TRADE", "Unknown OTC trade", M)
DUPLICATE_TRADE = code(-900002, "OTC_DUPLICATE_TRADE", "An OTC trade with this id is already registered", M)
UNKNOWN_ACCOUNT = code(-900003, "OTC_UNKNOWN_ACCOUNT", "The member has no such clearing account", M)
CURRENCY_NOT_SUPPORTED = code(-900004, "OTC_CURRENCY_NOT_SUPPORTED",
                              "Currency not settled by OTC Clear (HKD, USD, EUR, CNH)", M)
DEPOSIT_CURRENCY_NOT_ACCEPTED = code(-900005, "OTC_DEPOSIT_CURRENCY_NOT_ACCEPTED",
                                     "Cash collateral is not accepted in this currency", M)
WITHDRAWAL_EXCEEDS_EXCESS = code(-900006, "OTC_WITHDRAWAL_EXCEEDS_EXCESS",
                                 "The withdrawal exceeds the excess collateral over the margin requirement", M)
WITHDRAWAL_EXCEEDS_BALANCE = code(-900007, "OTC_WITHDRAWAL_EXCEEDS_BALANCE",
                                  "The withdrawal exceeds the cash collateral balance in this currency", M)
PVP_AFTER_CUTOFF = code(-900008, "OTC_PVP_AFTER_CUTOFF", "PvP instruction after the PvP cut-off of the value date", M)
PVP_NOT_MATCHING = code(-900009, "OTC_PVP_NOT_MATCHING", "The PvP instruction does not match OTC Clear's exchange amounts", M)
PVP_UNKNOWN_EXCHANGE = code(-900010, "OTC_PVP_UNKNOWN_EXCHANGE", "The trade has no such CCS notional exchange", M)
PVP_ALREADY_INSTRUCTED = code(-900011, "OTC_PVP_ALREADY_INSTRUCTED", "A PvP instruction was already accepted for this exchange", M)
UNKNOWN_INSTRUCTION = code(-900012, "OTC_UNKNOWN_INSTRUCTION", "Unknown payment instruction", M)
ALREADY_SETTLED = code(-900013, "OTC_ALREADY_SETTLED", "The payment instruction is already settled", M)
NOT_MEMBER_PAYMENT = code(-900014, "OTC_NOT_MEMBER_PAYMENT",
                          "OTC Clear pays this instruction; a member confirms only payments due from it", M)
SETTLES_BY_PVP = code(-900015, "OTC_SETTLES_BY_PVP", "CCS notional exchanges settle only by PvP instruction", M)
INTRADAY_CALL_CLOSED = code(-900016, "OTC_INTRADAY_CALL_CLOSED",
                            "Intraday VM calls must be run before their publication time", M)
NOT_A_FIXING_DATE = code(-900017, "OTC_NOT_A_FIXING_DATE", "The date is not a fixing or coupon date of the trade", M)
LEG_NOT_FLOATING = code(-900018, "OTC_LEG_NOT_FLOATING", "The leg is not a floating leg of the trade", M)
FIXING_ALREADY_SET = code(-900019, "OTC_FIXING_ALREADY_SET", "The rate fixing is already set", M)
NETTING_CLOSED = code(-900020, "OTC_NETTING_CLOSED",
                      "Settlement for that date has already been netted and issued", M)
DATE_NOT_FUTURE = code(-900021, "OTC_DATE_NOT_FUTURE", "Settlement dates must be after the current business date", M)
INVALID_SCHEDULE = code(-900022, "OTC_INVALID_SCHEDULE",
                        "Coupon dates must be strictly increasing and after the effective date", M)
AMOUNT_NOT_POSITIVE = code(-900023, "OTC_AMOUNT_NOT_POSITIVE", "The amount must be a positive integer (minor units)", M)
INVALID_RATE = code(-900024, "OTC_INVALID_RATE", "The rate must be a finite decimal in range", M)
INVALID_CURRENCY_PAIR = code(-900025, "OTC_INVALID_CURRENCY_PAIR",
                             "Currency pair invalid or settlement currency not in the pair", M)
INVALID_DIRECTION = code(-900026, "OTC_INVALID_DIRECTION", "Unknown trade direction", M)
INVALID_DAY_COUNT = code(-900027, "OTC_INVALID_DAY_COUNT", "Unknown day count convention", M)
SECURITY_NOT_ELIGIBLE = code(-900028, "OTC_SECURITY_NOT_ELIGIBLE", "The security is not eligible non-cash collateral", M)
NON_CASH_EXCEEDS_HOLDING = code(-900029, "OTC_NON_CASH_EXCEEDS_HOLDING",
                                "The non-cash withdrawal exceeds the holding in the CMU account", M)
PARTICIPATING_MARGIN_DISABLED = code(-900030, "OTC_PARTICIPATING_MARGIN_DISABLED",
                                     "Participating margin (settlement type 10) is not enabled", M)
INVALID_EXCHANGE_KIND = code(-900031, "OTC_INVALID_EXCHANGE_KIND", "The exchange must be INITIAL or FINAL", M)
CCS_SAME_CURRENCY = code(-900032, "OTC_CCS_SAME_CURRENCY", "A cross currency swap needs two different currencies", M)
INVALID_VALUATION_CURRENCY = code(-900033, "OTC_INVALID_VALUATION_CURRENCY",
                                  "The valuation currency must be one of the trade's currencies", M)
INVALID_FIXING_DATE = code(-900034, "OTC_INVALID_FIXING_DATE", "The NDF fixing date must not be after its settlement date", M)
INVALID_STATE_FILTER = code(-900035, "OTC_INVALID_STATE_FILTER", "Unknown payment instruction state", M)
INVALID_SETTLEMENT_TYPE = code(-900036, "OTC_INVALID_SETTLEMENT_TYPE", "Unknown settlement type", M)
INVALID_TRADE_ID = code(-900037, "OTC_INVALID_TRADE_ID", "Trade ids are 1 to 20 printable characters", M)
DESCRIPTION_TOO_LONG = code(-900038, "OTC_DESCRIPTION_TOO_LONG", "The description is longer than 40 characters", M)
AMOUNT_NEGATIVE = code(-900039, "OTC_AMOUNT_NEGATIVE", "The requirement must not be negative", M)
# the member's own side (issue 13): band -900400 ... -900449
PAYMENT_DATE_TOO_EARLY = code(-900400, "OTC_PAYMENT_DATE_TOO_EARLY",
                              "An additional payment must fall after the business date (its netting runs that morning)", M)
AMOUNT_ZERO = code(-900401, "OTC_AMOUNT_ZERO", "The additional payment amount must not be zero", M)
