"""CCMS business status codes (band -800xxx). Each distinct rejection has its own code.

Every rejection is raised before any state changes (the handler validates first, then mutates).
"""
from __future__ import annotations

from ..errors import ErrorCode, code

M = "ccms"

UNKNOWN_CURRENCY = code(-800001, "CCMS_UNKNOWN_CURRENCY",
                        "Unknown or unsupported currency", M)
INELIGIBLE_COLLATERAL = code(-800002, "CCMS_INELIGIBLE_COLLATERAL",
                             "The instrument is not on the list of acceptable collateral", M)
STOCK_IN_CLIENT_ACCOUNT = code(-800003, "CCMS_STOCK_IN_CLIENT_ACCOUNT",
                               "Stocks are not accepted as general collateral in a client collateral account", M)
STOCK_IN_MM_ACCOUNT = code(-800004, "CCMS_STOCK_IN_MM_ACCOUNT",
                           "Stocks are not accepted as general collateral in a market maker collateral account", M)
WITHDRAWAL_EXCEEDS_EXCESS = code(-800005, "CCMS_WITHDRAWAL_EXCEEDS_EXCESS",
                                 "The withdrawal would leave a margin shortfall", M)
ACCOUNT_NOT_CALLERS = code(-800006, "CCMS_ACCOUNT_NOT_CALLERS",
                           "The account belongs to another participant", M)
AFTER_CUTOFF = code(-800007, "CCMS_AFTER_CUTOFF",
                    "The request arrived after the cut-off time", M)
UNKNOWN_ACCOUNT = code(-800008, "CCMS_UNKNOWN_ACCOUNT",
                       "Unknown collateral account", M)
INSUFFICIENT_HOLDING = code(-800009, "CCMS_INSUFFICIENT_HOLDING",
                            "The quantity exceeds the holding in the collateral account", M)
INSTRUMENT_MATURED = code(-800010, "CCMS_INSTRUMENT_MATURED",
                          "The debt instrument has matured", M)
MAPPING_NOT_ALLOWED = code(-800011, "CCMS_MAPPING_NOT_ALLOWED",
                           "Only DCASS client accounts map to a client collateral account, and client accounts only there", M)
CLEARING_HOUSE_MISMATCH = code(-800012, "CCMS_CLEARING_HOUSE_MISMATCH",
                               "The DCASS account belongs to another clearing house than the collateral account", M)
UNKNOWN_DCASS_ACCOUNT = code(-800013, "CCMS_UNKNOWN_DCASS_ACCOUNT",
                             "Unknown DCASS account", M)
ACCOUNT_EXISTS = code(-800014, "CCMS_ACCOUNT_EXISTS",
                      "The collateral account already exists", M)
RESERVE_FUND_INELIGIBLE = code(-800015, "CCMS_RESERVE_FUND_INELIGIBLE",
                               "Not acceptable for this kind of reserve fund contribution", M)
COVERED_CALL_SEOCH_ONLY = code(-800016, "CCMS_COVERED_CALL_SEOCH_ONLY",
                               "Covered calls and specific stock collateral are SEOCH only", M)
INSUFFICIENT_SPECIFIC_STOCK = code(-800017, "CCMS_INSUFFICIENT_SPECIFIC_STOCK",
                                   "Not enough free specific stock collateral for the covered call request", M)
COVER_EXCEEDS_SHORT = code(-800018, "CCMS_COVER_EXCEEDS_SHORT",
                           "The contracts to cover exceed the uncovered short call position", M)
NO_SHORT_CALL_POSITION = code(-800019, "CCMS_NO_SHORT_CALL_POSITION",
                              "No short call position in this series for the account", M)
STOCK_EARMARKED = code(-800020, "CCMS_STOCK_EARMARKED",
                       "The specific stock is earmarked for covered calls", M)
UNKNOWN_CLEARING_HOUSE = code(-800021, "CCMS_UNKNOWN_CLEARING_HOUSE",
                              "Unknown clearing house (HKCC, SEOCH or HKSCC)", M)
RELEASE_EXCEEDS_COVER = code(-800022, "CCMS_RELEASE_EXCEEDS_COVER",
                             "The contracts to release exceed the covered quantity", M)
BASE_CURRENCY_RATE = code(-800023, "CCMS_BASE_CURRENCY_RATE",
                          "The FX rate of the base currency (HKD) is fixed at 1", M)
INVALID_ACCOUNT_KIND = code(-800024, "CCMS_INVALID_ACCOUNT_KIND",
                            "Collateral account kind must be HOUSE, CLIENT or MARKET_MAKER", M)
INVALID_QUANTITY = code(-800025, "CCMS_INVALID_QUANTITY",
                        "Amounts and quantities must be positive", M)
INVALID_RATE = code(-800026, "CCMS_INVALID_RATE",
                    "Rates and prices must be in range (FX and prices > 0)", M)
UNKNOWN_INSTRUCTION = code(-800027, "CCMS_UNKNOWN_INSTRUCTION",
                           "Unknown instruction", M)
INVALID_ACCOUNT_ID = code(-800028, "CCMS_INVALID_ACCOUNT_ID",
                          "Collateral account ids are 1-10 upper-case letters or digits", M)
PARTICIPANT_REQUIRED = code(-800029, "CCMS_PARTICIPANT_REQUIRED",
                            "The operator must name the participant", M)
NOT_A_STOCK = code(-800030, "CCMS_NOT_A_STOCK",
                   "Only stocks can be specific (covered call) collateral", M)
UNKNOWN_CONTRIBUTION_TYPE = code(-800031, "CCMS_UNKNOWN_CONTRIBUTION_TYPE",
                                 "Reserve fund contribution type must be INITIAL, ADDITIONAL or VARIABLE", M)

# money moves (issue 13): band -800400 ... -800449
NO_MANDATE = code(-800400, "CCMS_NO_MANDATE",
                  "No bank mandate for this currency: cash cannot be collected", M)
INVALID_MANDATE = code(-800401, "CCMS_INVALID_MANDATE",
                       "Bank: 1-60, bank account: 1-40 printable ASCII characters", M)
INVALID_BALANCE = code(-800402, "CCMS_INVALID_BALANCE",
                       "A bank balance is an amount in cents, zero or more", M)
INVALID_PARTICIPANT = code(-800403, "CCMS_INVALID_PARTICIPANT",
                           "Participant ids are 1-8 upper-case letters or digits", M)

NO_RESERVE_FUND = code(-800404, "CCMS_NO_RESERVE_FUND",
                      "Reserve funds are kept for HKCC and SEOCH only", M)
RESERVE_FUND_BELOW_REQUIREMENT = code(-800405, "CCMS_RESERVE_FUND_BELOW_REQUIREMENT",
                                      "The withdrawal would leave the reserve fund below its requirement", M)
INSUFFICIENT_BANK_BALANCE = code(-800406, "CCMS_INSUFFICIENT_BANK_BALANCE",
                                 "The mandated bank account cannot pay the reserve fund cash contribution", M)

NOT_OPERATOR_REQUIREMENT_HOUSE = code(-800407, "CCMS_REQUIREMENT_FROM_DCASS",
                                      "Margin requirements of HKCC and SEOCH come from DCASS; the operator sets HKSCC's", M)
TRANSFER_SAME_HOUSE = code(-800408, "CCMS_TRANSFER_SAME_HOUSE",
                           "A collateral transfer moves collateral between clearing houses", M)
TRANSFER_KIND_MISMATCH = code(-800409, "CCMS_TRANSFER_KIND_MISMATCH",
                              "A collateral transfer is between collateral accounts of the same kind", M)

INVALID_STOCK = code(-800410, "CCMS_INVALID_STOCK", "Not a stock code (1-5 digits)", M)

__all__ = [n for n, v in list(globals().items()) if isinstance(v, ErrorCode)]
