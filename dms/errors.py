"""Errors the domain services raise that the API answers with their own status codes."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The request is well-formed but the record's state forbids it (an illegal transition, a stale
    version): the API answers 409 with the message; pages show it as a form error."""
