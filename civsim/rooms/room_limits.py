"""A room's caps and what participants type: join codes, names, and :class:`RoomError`."""

from __future__ import annotations

import unicodedata
from typing import Any

from civsim.errors import UserError

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""32 symbols without 0/O and 1/I, easy to read off a projector."""
CODE_LENGTH = 6
MAX_ROOMS = 12
MAX_PARTICIPANTS = 60
MAX_NAME = 40
MAX_ROUNDS = 20
IDLE_SECONDS = 2 * 3600
MAX_TIMER = 3600


class RoomError(UserError):
    """A participant's or host's request that cannot be granted (one line, shown on the page)."""


def clean_name(name: Any) -> str:
    """A participant's name as stored: no control characters, single spaces, at most MAX_NAME characters."""
    text = "" if name is None else str(name)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())[:MAX_NAME]
    return text or "Participant"


def normalise_code(code: Any) -> str:
    """A join code as typed (any case, spaces or dashes) in canonical form."""
    return "".join(ch for ch in str(code or "").upper() if ch.isalnum())[: CODE_LENGTH + 4]
