"""The one error type every wire decoder raises on malformed input."""


class FormError(ValueError):
    """A packet or option body that does not follow its RFC's format.

    Decoders raise nothing else on bad bytes: callers catch exactly this to count a drop.
    ``reason`` is a short, stable, machine-friendly tag (used as a metrics label); the message
    says what was wrong and where.
    """

    def __init__(self, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason
