"""``[api]``: where the HTTP management API listens, who may use it (a token file) and its TLS
files. Absent ``listen`` means no API. A listener that is not on loopback needs a token file:
otherwise anyone on the network could release leases, so such a config is an error.
``reservations-file`` names the JSON reservations file (listed in a ``reservations`` source's
``files``) that ``POST``/``DELETE /v1/reservations`` edit; without it reservations are read-only."""

from __future__ import annotations

from pydantic import model_validator

from dhcpbridge.config.values import HostPort, TlsFiles, is_loopback, split_listen


class ApiConfig(TlsFiles):
    """``[api]``: the HTTP management API (``listen = "127.0.0.1:8267"``; off when absent)."""

    listen: HostPort | None = None
    tokens_file: str | None = None
    reservations_file: str | None = None  # a JSON reservations file of a [[source]] the API may edit

    @model_validator(mode="after")
    def _safe(self) -> ApiConfig:
        if self.reservations_file is not None and not self.reservations_file.lower().endswith(".json"):
            raise ValueError("reservations-file must be a .json reservations file")
        self.check_tls()
        if self.listen is not None and self.tokens_file is None:
            host, _ = split_listen(self.listen)
            if not is_loopback(host):
                raise ValueError(
                    f"listen = {self.listen!r} is not loopback: a tokens-file is required "
                    "(an open management API would let anyone release leases)"
                )
        return self
