"""Phone numbers as people type them, for property tests of the phone rules: prefixes, digits, separators."""

from __future__ import annotations

import random
from collections.abc import Sequence


def random_phone(rnd: random.Random, prefixes: Sequence[str], lengths: Sequence[int]) -> str:
    """A prefix and some digits, cut at random places by one separator four times in ten."""
    text = rnd.choice(prefixes) + "".join(rnd.choice("0123456789") for _ in range(rnd.choice(lengths)))
    if rnd.random() < 0.4:
        sep, parts, i = rnd.choice([" ", "-", ".", "  ", "/"]), [], 0
        while i < len(text):
            step = rnd.randint(1, 4)
            parts.append(text[i:i + step])
            i += step
        text = sep.join(parts)
    return text
