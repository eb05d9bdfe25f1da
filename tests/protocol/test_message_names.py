"""Message class names follow one pattern across DCASS, CCMS, OTC Clear and the session layer, and
the names they had before keep working for one minor release with a DeprecationWarning."""
from __future__ import annotations

import importlib
import pickle
import re
import warnings
from pathlib import Path

import pytest

from protocol.registry import NAMED_FOR_WHAT_THEY_ARE, all_specs, class_suffix

SPECS = all_specs()
RENAMING_MODULES = ["certify", "otc", "session", "system"]
CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.code)
def test_every_message_class_ends_with_the_word_of_its_role(spec):
    name = spec.cls.__name__
    suffix = class_suffix(spec)
    if spec.code in NAMED_FOR_WHAT_THEY_ARE:
        assert name == suffix
    else:
        assert name.endswith(suffix) and len(name) > len(suffix), f"{spec.code} {name}: should end in {suffix}"
    module = importlib.import_module(spec.cls.__module__)
    assert getattr(module, name) is spec.cls          # the name is the one it is imported by


def test_the_suffixes_by_role():
    by_code = {s.code: s for s in SPECS}
    assert class_suffix(by_code["EC304"]) == "Request"    # operator transaction (was SetMtm)
    assert class_suffix(by_code["UB1"]) == "Request"      # subscribe
    assert class_suffix(by_code["UL1"]) == "Request"      # login
    assert class_suffix(by_code["UO1"]) == "Request"      # logout asked by the client
    assert class_suffix(by_code["SQ301"]) == "Query"
    assert class_suffix(by_code["SA301"]) == "Answer"     # answers the query SQ301
    assert class_suffix(by_code["CA100"]) == "Reply"      # answers the transactions EC101/EC104
    assert class_suffix(by_code["UL2"]) == "Reply"        # answers the login
    assert class_suffix(by_code["BS302"]) == "Broadcast"
    assert class_suffix(by_code["UR1"]) == "Ack"


@pytest.mark.parametrize("module_name", RENAMING_MODULES)
def test_old_names_still_import_with_a_deprecation_warning(module_name):
    module = importlib.import_module(f"protocol.messages.{module_name}")
    assert module.RENAMED
    for old, new in module.RENAMED.items():
        assert old not in vars(module), f"{old} is still bound in {module_name}"
        with pytest.warns(DeprecationWarning, match=rf"{old} is renamed {new}\b"):
            cls = getattr(module, old)
        assert cls is getattr(module, new)


def test_from_import_of_an_old_name_warns_and_gives_the_new_class():
    from protocol.messages.otc import SetMtmRequest
    with pytest.warns(DeprecationWarning, match="SetMtm is renamed SetMtmRequest"):
        from protocol.messages.otc import SetMtm
    assert SetMtm is SetMtmRequest
    assert repr(SetMtm(trade_id="T1", mtm=-5)).startswith("SetMtmRequest(")


def test_an_instance_built_by_an_old_name_pickles_under_the_new_one():
    from protocol.messages import system
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        msg = system.RunEndOfDay()
    data = pickle.dumps(msg)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)       # unpickling needs no old name
        assert pickle.loads(data) == msg
    assert b"RunEndOfDayRequest" in data


def test_an_unknown_name_is_still_an_attribute_error():
    from protocol.messages import otc
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchMessage'"):
        otc.NoSuchMessage  # noqa: B018


def test_the_changelog_lists_every_deprecated_name():
    text = CHANGELOG.read_text()
    deprecated = text.split("### Deprecated", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)`\s+->\s+`(\w+)`", deprecated))
    for module_name in RENAMING_MODULES:
        module = importlib.import_module(f"protocol.messages.{module_name}")
        for pair in module.RENAMED.items():
            assert pair in listed, f"CHANGELOG.md Deprecated does not list {pair[0]} -> {pair[1]}"

