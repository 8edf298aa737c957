"""Customer chat input hygiene: control characters, length and flood limits for /ws/chat."""

from __future__ import annotations

import time
import unicodedata
from collections import deque

# A message frame's raw JSON larger than this is refused before it is even parsed.
MAX_RAW_FRAME_CHARS = 16_000
MAX_PAYLOAD_CHARS = 500
_KEPT_CONTROLS = {"\n", "\t"}


def clean_text(text: str) -> str:
    """Drop control characters (Cc) and lone surrogates (Cs), keeping newlines and tabs.

    Format characters (Cf) stay: emoji joiners and right-to-left marks are part of real text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text
                   if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cs"))


class FloodGuard:
    """Sliding window: at most `max_messages` accepted messages per `per_seconds` for one conversation."""

    def __init__(self, *, max_messages: int, per_seconds: float, clock=time.monotonic):
        self.max_messages = max_messages
        self.per_seconds = per_seconds
        self._clock = clock
        self._accepted: deque[float] = deque()

    def allow(self) -> bool:
        now = self._clock()
        while self._accepted and now - self._accepted[0] >= self.per_seconds:
            self._accepted.popleft()
        if len(self._accepted) >= self.max_messages:
            return False
        self._accepted.append(now)
        return True
