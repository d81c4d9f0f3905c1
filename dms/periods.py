"""Dashboard periods: the presets, a custom range, and the two periods each is compared with.

* **Previous period**: for today, yesterday; for this week / month / year so far, the previous week /
  month / year up to the same day (1–29 November → 1–29 October; a day the month lacks becomes its
  last day); for last month, the month before; for a custom range, as many days just before it.
* **Same period last year**: the same days one year earlier (29 February → 28 February).
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PRESETS = {
    "today": _("Today"),
    "this_week": _("This week"),
    "this_month": _("This month"),
    "last_month": _("Last month"),
    "this_year": _("This year"),
    "custom": _("Custom"),
}
MAX_DAYS = 3 * 366


def _shift_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Period:
    first: datetime.date
    last: datetime.date
    preset: str = "custom"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def bucket(self) -> str:
        """The trend's step: days up to a month, weeks up to a quarter, then months."""
        return "day" if self.days <= 31 else "week" if self.days <= 120 else "month"

    def previous(self) -> Period:
        if self.preset == "today":
            day = self.first - datetime.timedelta(days=1)
            return Period(day, day)
        if self.preset == "this_week":
            return Period(self.first - datetime.timedelta(days=7), self.last - datetime.timedelta(days=7))
        if self.preset in ("this_month", "last_month"):
            first = _shift_months(self.first, -1)
            last = _shift_months(self.last, -1) if self.preset == "this_month" else self.first - datetime.timedelta(1)
            return Period(first, last)
        if self.preset == "this_year":
            return self.last_year()
        return Period(self.first - datetime.timedelta(days=self.days), self.first - datetime.timedelta(days=1))

    def last_year(self) -> Period:
        return Period(_shift_months(self.first, -12), _shift_months(self.last, -12))

    def comparisons(self) -> dict[str, tuple[datetime.date, datetime.date]]:
        previous, last_year = self.previous(), self.last_year()
        return {
            "current": (self.first, self.last),
            "previous": (previous.first, previous.last),
            "last_year": (last_year.first, last_year.last),
        }


def preset_period(preset: str, today: datetime.date) -> Period:
    if preset == "today":
        return Period(today, today, preset)
    if preset == "this_week":
        return Period(today - datetime.timedelta(days=today.weekday()), today, preset)
    if preset == "this_month":
        return Period(today.replace(day=1), today, preset)
    if preset == "last_month":
        last = today.replace(day=1) - datetime.timedelta(days=1)
        return Period(last.replace(day=1), last, preset)
    if preset == "this_year":
        return Period(today.replace(month=1, day=1), today, preset)
    raise ValueError(preset)
