"""Domain errors every service maps to the same problem details."""


class InvalidField(ValueError):
    """A field of the request breaks a business rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(LookupError):
    """The resource does not exist, or the caller may not see it."""


class PeerUnavailable(RuntimeError):
    """A service this one depends on cannot be reached now; try again later."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"the {service} service is unavailable: {reason}")
        self.service = service
