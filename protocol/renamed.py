"""Old names of renamed message classes, importable for one release with a DeprecationWarning.

A message module lists its renamed classes as ``RENAMED = {"OldName": "NewName", ...}`` and binds
``__getattr__ = renamed_classes(__name__, RENAMED)``: ``from protocol.messages.otc import SetMtm``
and ``otc.SetMtm`` still give the class (now ``SetMtmRequest``) and warn. CHANGELOG.md lists the
names and the release that removes them; the wire (message codes such as EC304, field layouts and
the snake-case message names) is unchanged by a rename.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any, Callable


def renamed_classes(module_name: str, renamed: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that answers each old name with its new class and a DeprecationWarning."""
    def __getattr__(name: str) -> Any:
        new = renamed.get(name)
        if new is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        warnings.warn(f"{module_name}.{name} is renamed {new}; the old name goes after one minor release (CHANGELOG.md)",
                      DeprecationWarning, stacklevel=2)
        return getattr(sys.modules[module_name], new)
    return __getattr__
