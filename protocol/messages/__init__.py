"""Message declarations, one module per capability. Importing this package registers them all."""
from __future__ import annotations

import importlib
import pkgutil

from protocol.codec import name_classes

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    name_classes(importlib.import_module(f"{__name__}.{_m.name}"))
