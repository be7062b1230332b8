"""Prices, as data: the packaged ``prices.json`` (AWS list prices of its ``date`` in its ``region``),
with a user's own file over it.

``PIPELINEJOBS_PRICES`` holds a JSON object of the same shape with only what differs (another region's
prices, a negotiated rate, an instance type not listed), or names a file holding one: it is merged key by
key over the packaged prices, and its ``date`` and ``region`` say whose prices they are. Inline JSON suits a
Lambda function's environment (no file to ship); a file suits a shell. Every estimate stores the date and region it was
priced with, so an estimate read later says what it was computed from.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..config import PRICES_ENV, Config
from ..errors import ConfigurationError

#: The keys that describe the table rather than price something.
LABELS = ("date", "region", "currency", "source")

Prices = dict[str, Any]


def _merged(base: Prices, over: Prices, where: str) -> Prices:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merged(base[key], value, f"{where}.{key}")
        elif key in LABELS and isinstance(value, str):
            merged[key] = value
        elif isinstance(value, dict):
            merged[key] = _merged({}, value, f"{where}.{key}")
        elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            merged[key] = value
        else:
            raise ConfigurationError(f"prices: {where}.{key} must be a number of dollars (>= 0), not {value!r}")
    return merged


@cache
def _packaged() -> Prices:
    return json.loads(resources.files(__package__).joinpath("prices.json").read_text())


@cache
def _overridden(setting: str) -> Prices:
    inline = setting.lstrip().startswith("{")
    try:
        if inline:
            over = json.loads(setting)
        else:
            with open(setting) as file:
                over = json.load(file)
    except (OSError, ValueError) as exc:
        where = "its JSON" if inline else setting
        raise ConfigurationError(f"{PRICES_ENV}: cannot read {where} as JSON ({exc})") from None
    if not isinstance(over, dict):
        raise ConfigurationError(f"{PRICES_ENV}: must hold a JSON object like the packaged prices.json")
    return _merged(_packaged(), over, "prices")


def current() -> Prices:
    """The prices in force: the packaged ones, or the user's (``PIPELINEJOBS_PRICES``) over them."""
    setting = Config.current().prices
    return _overridden(setting) if setting else _packaged()
