"""Where automated messages go: one interface, providers chosen by setting.

``FOLLOWUP_CHANNELS`` maps a customer's channel (sms, email, wechat) to a provider class path and
``FOLLOWUP_RATE_LIMITS`` caps each provider's sends per second. Here: a console provider (one JSON
line per message in a file, which is also how it answers ``lookup``) and Django's email.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from .choices import MessageStatus
from .models import Message


class ChannelError(Exception):
    """The provider refused the message; it was not sent."""


class Provider:
    name = "provider"

    def send(self, message: Message) -> str:
        """Hand the message over, with its idempotency key; return the provider's reference."""
        raise NotImplementedError

    def lookup(self, message: Message) -> str | None:
        """What became of a message whose send outcome is unknown: ``MessageStatus.SENT`` or None (unknown)."""
        return None


class ConsoleProvider(Provider):
    """Appends each message as a JSON line to ``FOLLOWUP_CONSOLE_PATH`` (stdout when unset)."""

    name = "console"

    def _path(self) -> Path | None:
        path = getattr(settings, "FOLLOWUP_CONSOLE_PATH", "")
        return Path(path) if path else None

    def send(self, message: Message) -> str:
        line = json.dumps(
            {
                "key": str(message.idempotency_key),
                "channel": message.channel,
                "to": message.recipient,
                "body": message.body,
            },
            ensure_ascii=False,
        )
        path = self._path()
        if path is None:
            print(line, flush=True)  # noqa: T201 - this provider's whole job
            return f"console:{message.idempotency_key}"
        with path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line + "\n")
        return f"console:{message.idempotency_key}"

    def lookup(self, message: Message) -> str | None:
        path = self._path()
        if path is None or not path.exists():
            return None
        key = str(message.idempotency_key)
        with path.open(encoding="utf-8") as handle:
            return MessageStatus.SENT if any(key in line for line in handle) else None


class EmailProvider(Provider):
    """Django's email backend; the idempotency key travels as a header."""

    name = "email"

    def send(self, message: Message) -> str:
        email = EmailMessage(
            subject=message.body.split("\n", 1)[0][:78],
            body=message.body,
            to=[message.recipient],
            headers={"X-Idempotency-Key": str(message.idempotency_key)},
        )
        if email.send() != 1:
            raise ChannelError("the email backend sent nothing")
        return f"email:{message.idempotency_key}"


def provider_for(channel: str) -> Provider:
    paths = getattr(settings, "FOLLOWUP_CHANNELS", {})
    return import_string(paths.get(channel, "followup.channels.ConsoleProvider"))()


def rate_limit(provider: Provider) -> int:
    return int(getattr(settings, "FOLLOWUP_RATE_LIMITS", {}).get(provider.name, 0))
