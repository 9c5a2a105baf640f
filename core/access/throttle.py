"""Sign-in throttling after OWASP: growing delays per account *and* address, and a high per-address ceiling.

A guesser slows down only the pair (account, address) it is guessing from: the account's owner signing
in from another address is never refused because of it. The per-address ceiling stops one address from
trying thousands of accounts, and is high enough for many people behind one proxy (set TRUSTED_PROXIES
so that each of them has their own address).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.errors import TooManyAttempts
from core.i18n import N_
from core.models import LoginAttempt

PAIR_MEMORY = dt.timedelta(hours=24)      # failures older than this (or before a success) are forgotten
ADDRESS_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3      # failures of one pair before any delay
    max_delay: int = 900        # seconds: the delay doubles (1, 2, 4 … s) up to this
    address_ceiling: int = 300  # failures from one address, all accounts, in ADDRESS_WINDOW


def delay_after(failures: int, policy: ThrottlePolicy) -> int:
    """Seconds to wait after `failures` consecutive failures of one account from one address."""
    extra = failures - policy.free_failures
    return 0 if extra < 0 else min(2 ** min(extra, 30), policy.max_delay)


def check(session: Session, email: str, ip: str | None, policy: ThrottlePolicy) -> None:
    """Raise TooManyAttempts (with Retry-After seconds) if this sign-in must wait."""
    now = clock.now()
    pair = (LoginAttempt.email == email, LoginAttempt.ip.is_(None) if ip is None else LoginAttempt.ip == ip)
    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.succeeded.is_(True)))
    since = max(now - PAIR_MEMORY, _aware(last_success) or now - PAIR_MEMORY)
    failures, last_failure = session.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .where(*pair, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
    ).one()
    wait = delay_after(failures, policy)
    if wait and last_failure is not None:
        remaining = (_aware(last_failure) + dt.timedelta(seconds=wait) - now).total_seconds()
        if remaining > 0:
            raise TooManyAttempts(N_("Too many failed sign-ins for this account from here. Wait %(wait)s and try "
                                     "again."), params={"wait": dt.timedelta(seconds=math.ceil(remaining))},
                                  retry_after=math.ceil(remaining))
    if ip is not None:
        from_address = session.scalar(select(func.count()).where(
            LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - ADDRESS_WINDOW)) or 0
        if from_address >= policy.address_ceiling:
            raise TooManyAttempts(N_("Too many failed sign-ins from this network. Wait 15 minutes and try again."),
                                  retry_after=int(ADDRESS_WINDOW.total_seconds()))


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    # max() over a UTC column comes back naive (or as text) on SQLite: the type decorator is not applied.
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
