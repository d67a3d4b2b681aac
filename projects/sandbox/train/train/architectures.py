"""Architecture subcommands of ``train``: each builds the network it names.

``train … resnet --layers [3,4,6,3] --widths [64,128,256,512]`` selects the
1D ResNet of ``aframe.architectures``. A subcommand's arguments are the
network class's own (its signature and docstring, minus ``num_ifos``), so
defaults are written once, on the class; they are saved in ``model.pt`` so
that export and inference rebuild the same network.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aframe.architectures import ARCHITECTURES


@dataclass(frozen=True)
class Architecture:
    """A registered network and the arguments it is built with.

    Attributes:
        name: registry name (``aframe.architectures.ARCHITECTURES``)
        kwargs: its arguments besides ``num_ifos``
    """

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def architecture_command(name: str) -> Callable[..., Architecture]:
    """A callable with the signature of the network ``name`` (less ``num_ifos``).

    Args:
        name: registry name

    Returns:
        ``command(**kwargs) → Architecture(name, kwargs)``, documented and typed
        like the network's class, for the CLI's subcommand
    """
    network = ARCHITECTURES[name]
    signature = inspect.signature(network)
    # the class's annotations may be strings (postponed evaluation): resolve
    # them in its own module so the CLI can type-check the arguments
    hints = typing.get_type_hints(network.__init__)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if p.name != "num_ifos"
    ]

    def command(**kwargs: Any) -> Architecture:
        values = {p.name: p.default for p in parameters} | kwargs
        return Architecture(name, {k: _plain(v) for k, v in values.items()})

    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=Architecture
    )
    command.__doc__ = network.__doc__
    command.__name__ = name
    return command


#: subcommand name → its command, one per registered network
COMMANDS: dict[str, Callable[..., Architecture]] = {
    name: architecture_command(name) for name in ARCHITECTURES
}


def resnet(**kwargs: Any) -> Architecture:
    """``aframe.architectures.ResNet1D`` with these arguments (its defaults else)."""
    return COMMANDS["resnet"](**kwargs)
