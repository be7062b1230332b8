"""template.yaml as the local stack reads it: parameters, Globals, and the intrinsics it meets.

The local stack builds every resource from the SAM template that deploys, so the two cannot
drift. It needs only the intrinsics that the resources it creates use: ``Ref``, ``Fn::GetAtt``,
``Fn::Sub`` and ``Fn::Join``. Any other (``Fn::If``, ``Fn::Select``...) in a value it resolves
raises :class:`UnsupportedIntrinsic`, naming it, rather than passing a dict where a string goes.

Where a resource writes the same expression as one of the template's Outputs (the orchestrator's
``PIPELINEJOBS_API_URL`` is the ``ApiUrl`` output's ``!Sub https://${HttpApi}.execute-api...``),
the local stack's value for that output is used: the HTTP API is served locally, not created.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..storage.tables import load_template, template_path
from .lambda_runtime import ACCOUNT_ID

#: What a ``Ref`` (attribute None) or ``Fn::GetAtt`` of a resource is: the stack creates it if need be.
Lookup = Callable[[str, str | None], Any]

_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")
#: ``!Ref AWS::NoValue``: the property is left out.
NO_VALUE = object()


class UnsupportedIntrinsic(ConfigurationError):
    pass


def substitute(text: str, substitutions: Mapping[str, str]) -> str:
    """``text`` with every ``${Name}`` replaced, as a state machine's DefinitionSubstitutions are;
    a placeholder with no substitution raises KeyError (moto would accept the broken definition)."""
    missing = set(_PLACEHOLDER.findall(text)) - set(substitutions)
    if missing:
        raise KeyError(f"no substitution for {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)


@dataclass
class Template:
    """A parsed template with its parameter values, resolving values against ``lookup``."""

    body: dict[str, Any]
    path: Path
    lookup: Lookup
    parameters: dict[str, Any] = field(default_factory=dict)
    region: str = "us-east-1"
    stack_name: str = "pipelinejobs-local"
    #: Output name -> the value it has locally (see the module doc).
    outputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, lookup: Lookup, path: Path | None = None, **settings: Any) -> Template:
        path = path or template_path()
        return cls(load_template(path), path, lookup, **settings)

    @property
    def root(self) -> Path:
        """Where CodeUri and DefinitionUri are relative to."""
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body["Resources"]

    def parameter(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        declared = self.body.get("Parameters", {}).get(name)
        if declared is None or "Default" not in declared:
            raise ConfigurationError(f"template parameter {name} has no value (and no Default)")
        return declared["Default"]

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A serverless function's properties with the template's ``Globals.Function`` merged in,
        as SAM merges them (see :func:`_merge`)."""
        return _merge(self.body.get("Globals", {}).get("Function", {}), self.resources[logical_id]["Properties"])

    # ---- intrinsics ---------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        for name, expression in self.body.get("Outputs", {}).items():
            if name in self.outputs and value == expression["Value"]:
                return self.outputs[name]
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.stack_name, "AWS::NoValue": NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.body.get("Parameters", {}):
            return self.parameter(name)
        if name in self.resources:
            return self.lookup(name, None)
        raise ConfigurationError(f"!Ref {name}: no such parameter or resource in {self.path}")

    def _function(self, key: str, argument: Any) -> Any:
        if key == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.lookup(logical_id, attribute)
        if key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            values = {name: self.resolve(v) for name, v in variables.items()}
            text = _PLACEHOLDER.sub(lambda m: str(values[m.group(1)] if m.group(1) in values
                                                  else self._sub_reference(m.group(1))), text)
            return text.replace("${!", "${")  # ${!Literal} is written out as ${Literal}
        if key == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self.resolve(items))
        raise UnsupportedIntrinsic(f"{key} is not resolved by the local stack (pipelinejobs/local/template.py)")

    def _sub_reference(self, name: str) -> Any:
        """``${Name}`` is a Ref, ``${Name.Attr}`` a GetAtt (pseudo parameters hold ``::``, never a dot)."""
        if "." in name:
            return self._function("Fn::GetAtt", name)
        return self._ref(name)


def _merge(defaults: Any, overrides: Any) -> Any:
    """SAM's Globals rules: maps merge, lists add up (globals first), anything else is overridden."""
    if isinstance(defaults, dict) and isinstance(overrides, dict):
        return {**defaults, **{k: _merge(defaults.get(k), v) for k, v in overrides.items()}}
    if isinstance(defaults, list) and isinstance(overrides, list):
        return defaults + overrides
    return overrides
