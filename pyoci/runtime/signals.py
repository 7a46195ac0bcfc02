"""Signal names for `kill`: TERM, SIGTERM, term or 15 all name one signal.

Names come from the C module `_signal`: `signal` builds an enum of them,
which costs `kill` more than everything else it does.
"""
import _signal as signal

from pyoci.errors import PyociError


def parse_signal(text):
    if text.isascii() and text.isdigit():
        number = int(text)
        if 0 < number < signal.NSIG:
            return number
        raise PyociError(f"invalid signal: {text}")
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if not name.startswith("SIG_") and isinstance(getattr(signal, name, None), int):
        return getattr(signal, name)
    for base, sign in (("SIGRTMIN", 1), ("SIGRTMAX", -1)):
        prefix = base + ("+" if sign > 0 else "-")
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            number = int(getattr(signal, base)) + sign * int(name[len(prefix):])
            if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
                return number
    raise PyociError(f"invalid signal: {text}")
