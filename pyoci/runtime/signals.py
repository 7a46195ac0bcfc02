"""Signal names for `kill`: TERM, SIGTERM, term or 15 all name one signal."""
import signal

from pyoci.errors import PyociError


def parse_signal(text):
    if text.isdigit():
        number = int(text)
        if 0 < number < signal.NSIG:
            return number
        raise PyociError(f"invalid signal: {text}")
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    sig = getattr(signal.Signals, name, None) if name in signal.Signals.__members__ else None
    if sig is None:
        if name.startswith("SIGRTMIN+") or name.startswith("SIGRTMAX-"):
            base = signal.SIGRTMIN if name.startswith("SIGRTMIN") else signal.SIGRTMAX
            try:
                offset = int(name[9:])
            except ValueError:
                raise PyociError(f"invalid signal: {text}") from None
            return base + offset if base == signal.SIGRTMIN else base - offset
        raise PyociError(f"invalid signal: {text}")
    return int(sig)
