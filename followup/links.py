"""Links other apps offer on a call, without followup importing them: the service app registers where
a specialist books the customer in (``register_booking_link`` in its ``AppConfig.ready``)."""

from __future__ import annotations

from collections.abc import Callable

booking_links: list[Callable] = []


def register_booking_link(link: Callable) -> Callable:
    """``link(followup, back)`` returns the URL of a booking page for the call's customer, or None."""
    if link not in booking_links:
        booking_links.append(link)
    return link


def booking_url(followup, back: str) -> str | None:
    for link in booking_links:
        url = link(followup, back)
        if url:
            return url
    return None


subject_links: list[Callable] = []


def register_subject_link(link: Callable) -> Callable:
    """``link(followup)`` returns the URL of the page of the call's subject (a lead, an order), or None."""
    if link not in subject_links:
        subject_links.append(link)
    return link


def subject_url(followup) -> str | None:
    for link in subject_links:
        url = link(followup)
        if url:
            return url
    return None
