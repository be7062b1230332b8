"""Webhook function (HTTP API): the routes live in the layer, in pipelinejobs.api."""

from pipelinejobs.api import handler

__all__ = ["handler"]
