"""The webhook function's logic: see :mod:`.app`."""

from .app import app, handler

__all__ = ["app", "handler"]
