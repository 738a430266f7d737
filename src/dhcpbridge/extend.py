"""The public API for your own handlers: import from here, not from the engine's modules.

A handler subclasses ``Handler`` and overrides any of ``pre`` (before the engine decides),
``handle`` (the decisions: sources, leases) and ``post`` (the reply is built, not yet encoded);
each may be plain or ``async``. ``[[handler]] position = "before"`` runs it before the built-in
handlers of each phase, ``"after"`` (the default) after them. ``raise CannotRespond(reason)``
drops the request (counted and logged under ``reason``); ``tx.done = True`` ends the handle
phase early. Post hooks always run, so they can also observe drops (``tx.drop_reason``).

Stable transaction attributes, the same in ``Transaction4`` and ``Transaction6``:

* ``protocol`` (4 or 6), ``msg_type`` (``"DHCPDISCOVER"`` / ``"SOLICIT"``...), ``msg_type_code``,
  ``now`` (the exchange's clock, seconds)
* who: ``client_mac``, ``client_id`` (option 61 / the DUID), ``hostname``, ``requested_ip``
* where: ``interface``, ``relay_ip``, ``circuit_id`` (v6: the Interface-ID), ``remote_id``,
  ``subnet`` (``.name``, ``.contains(address)``; None when unknown)
* what the sources said: ``answer`` (an ``Answer``: ``action``, ``source``, ``options``...)
* the reply: ``reply_type`` (0: none), ``reply_options`` - a dict ``code -> value bytes`` put
  into the reply when it is encoded, replacing the option of that code or adding it - and
  ``effects`` (``LeaseEvent`` list), ``state``, ``drop_reason`` / ``drop_detail``, ``done``
* the request itself: ``request`` (a ``wire.v4.message.Message4`` / ``wire.v6.message.Message6``),
  and ``reply`` once built, for what is family-specific.

Leases are ``Lease`` records of a ``LeaseKind`` (V4, NA, PD) in a ``LeaseState``.

Hooks with a helper here:

* ``veto_rapid_commit(tx)`` in a handler's ``pre`` (either position): this SOLICIT gets an
  ADVERTISE and the usual four-message exchange although the client asked for Rapid Commit and
  the link allows it (RFC 8415 §18.3.1; dhcpkit's handlers can do the same), e.g. for clients
  that must not bind before another server may answer.
"""

from __future__ import annotations

from dhcpbridge.engine.core import Transaction
from dhcpbridge.engine.model import Action, Answer, Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.engine.v6.transaction import Transaction6


def veto_rapid_commit(tx: Transaction6) -> None:
    """Answer this SOLICIT without Rapid Commit (see the module docstring); call it in ``pre``."""
    tx.rapid_commit = False


__all__ = [
    "Action",
    "Answer",
    "CannotRespond",
    "Handler",
    "Lease",
    "LeaseEvent",
    "LeaseKind",
    "LeaseState",
    "Transaction",
    "Transaction4",
    "Transaction6",
    "veto_rapid_commit",
]
