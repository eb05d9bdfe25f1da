"""Testing a back office against the emulator: an in-process gateway and a pytest plugin.

The plugin (``hkpost_pytest.plugin``, registered as the ``pytest11`` entry point ``hkpost``) is
loaded by pytest wherever the package is installed; its fixtures are named ``hkpost_*``. See
docs/guides/testing-your-back-office.md.
"""
from hkpost_pytest.emulator import DEMO_BUSINESS_TIME, Emulator

__all__ = ["Emulator", "DEMO_BUSINESS_TIME"]
