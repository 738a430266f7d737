"""``[[handler]]`` tables -> user handler instances, per family and position (before or after the
built-in handlers of each phase)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any, Literal

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.config.model import Config
from dhcpbridge.engine.pipeline import Handler

Position = Literal["before", "after"]


def load_handler(path: str, options: dict[str, Any] | None = None) -> Handler[Any]:
    """Instantiate a user handler from ``package.module:ClassName`` (or ``package.module.ClassName``)."""
    module_name, _, attr = path.partition(":")
    if not attr:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"handler {path!r} must be 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import handler module {module_name!r}: {exc}") from None
    cls = getattr(module, attr, None)
    if cls is None:
        raise ValueError(f"module {module_name!r} has no {attr!r}")
    handler = cls(**(options or {}))
    if not isinstance(handler, Handler):
        raise ValueError(f"{path} is not a dhcpbridge.engine.pipeline.Handler subclass")
    return handler


def load_handlers(config: Config, family: int, position: Position | None = "after") -> list[Handler[Any]]:
    """Instantiate the ``[[handler]]`` classes for ``family`` (4 or 6) at ``position`` (None: at
    any position), in file order; ``AssemblyError`` lists every one that cannot be loaded."""
    out: list[Handler[Any]] = []
    errors: list[str] = []
    for i, spec in enumerate(config.handler):
        if spec.family is not None and spec.family != family:
            continue
        if position is not None and spec.position != position:
            continue
        if spec.search_path:
            where = str(config.resolve_path(spec.search_path))
            if where not in sys.path:
                # after site-packages: a handler directory cannot shadow the stdlib or a library
                sys.path.append(where)
        try:
            out.append(load_handler(spec.path, spec.options))
        except (ValueError, TypeError) as exc:
            errors.append(f"handler[{i}].path: {exc}")
        except Exception as exc:  # the user's constructor failed: report it, never crash the check
            errors.append(f"handler[{i}]: {spec.path} failed to start: {type(exc).__name__}: {exc}")
    if errors:
        raise AssemblyError(errors)
    if position != "before" and config.dns is not None and config.dns.enabled and config.dns.zone:
        from dhcpbridge.dns.reply import ClientFqdnReply  # [dns]: option 81 / 39 back to the client

        out.append(ClientFqdnReply(config.dns.override_client_update))
    return out


def handlers_before(
    config: Config, family: int, before: Sequence[Handler[Any]] | None = None
) -> dict[str, Sequence[Handler[Any]]]:
    """The engine's ``before`` keyword: ``before``, else the config's ``position = "before"``
    handlers of ``family``; nothing when there are none (engines without the keyword still work)."""
    first = load_handlers(config, family, "before") if before is None else before
    return {"before": first} if first else {}
