"""What the gateway says at start when it runs on the shipped demo data: where the demo users are,
the console's address when it runs, and where to go next. Nothing on a participant's own data."""
from __future__ import annotations

from gateway.config import Settings

DEMO_USERS = "README.md, section 'Demo users': every password is pass-<user id>, e.g. CPA01 / pass-CPA01, operator OPER1"
NEXT_STEPS = ("docs/guides/testing-your-back-office.md (your own tests against the emulator), "
              "docs/protocol.md (the wire protocol), python -m clients --help (the command line)")


def on_demo_data(settings: Settings) -> bool:
    """The shipped demo users and the shipped DCASS reference data."""
    return settings.users_file is None and not settings.dcass_reference


def demo_hints(settings: Settings, port: int, console_running: bool) -> dict[str, str] | None:
    """The fields of the start-up ``demo_data`` log event (None when not on demo data)."""
    if not on_demo_data(settings):
        return None
    hints = {"gateway": f"{settings.host}:{port}", "demo_users": DEMO_USERS}
    if console_running:
        hints["console"] = (f"http://{settings.console_host}:{settings.console_port}/ "
                            "(log in as OPER1 / pass-OPER1 and press 'Play the demo day')")
    else:
        hints["console"] = "not started (--no-console)"
    hints["next_steps"] = NEXT_STEPS
    return hints
