"""Panels other apps add to the customer 360 and vehicle pages, without crm importing them.

``sales``, ``service`` and ``followup`` register a panel in their ``AppConfig.ready()``; the
page renders each registered panel's template with the context its function returns, as ``item``
(``item.panel`` is the panel itself).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Callable  # (request, obj) -> dict
    order: int = 100
    permission: str = ""  # shown only to users who have it


customer_panels: list[Panel] = []
vehicle_panels: list[Panel] = []


def register(panels: list[Panel], panel: Panel) -> None:
    if all(existing.key != panel.key for existing in panels):
        panels.append(panel)
        panels.sort(key=lambda item: item.order)


def render_context(panels: list[Panel], request, obj) -> list[dict]:
    return [
        {"panel": panel, **panel.context(request, obj)}
        for panel in panels
        if not panel.permission or request.user.has_perm(panel.permission)
    ]
