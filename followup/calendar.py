"""When a rooftop may call or message a customer: its business hours and holidays, in its own time
zone, intersected with the customer's preferred contact window."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from crm.models import Customer, Dealership

# A rooftop that has not entered its hours yet is taken to be open 9:00–18:00 every day.
DEFAULT_HOURS = (datetime.time(9, 0), datetime.time(18, 0))
SEARCH_DAYS = 60


@dataclass(frozen=True)
class RooftopCalendar:
    zone: datetime.tzinfo
    hours: dict[int, tuple[datetime.time, datetime.time]]
    holidays: frozenset[datetime.date]

    @classmethod
    def of(cls, dealership: Dealership) -> RooftopCalendar:
        hours = {row.weekday: (row.opens_at, row.closes_at) for row in dealership.business_hours.all()}
        if not hours:
            hours = dict.fromkeys(range(7), DEFAULT_HOURS)
        holidays = frozenset(dealership.holidays.values_list("closed_on", flat=True))
        return cls(zone=dealership.zone, hours=hours, holidays=holidays)

    def window(
        self, day: datetime.date, customer: Customer | None
    ) -> tuple[datetime.datetime, datetime.datetime] | None:
        """The contact window on local ``day`` as aware datetimes, or None when there is none."""
        if day in self.holidays or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        if customer is not None and customer.contact_from and customer.contact_until:
            wished_from, wished_until = max(opens, customer.contact_from), min(closes, customer.contact_until)
            if wished_from < wished_until:  # a wish outside business hours cannot be kept; hours win
                opens, closes = wished_from, wished_until
        return (
            datetime.datetime.combine(day, opens, tzinfo=self.zone),
            datetime.datetime.combine(day, closes, tzinfo=self.zone),
        )

    def next_contact_time(self, earliest: datetime.datetime, customer: Customer | None = None) -> datetime.datetime:
        """The first moment at or after ``earliest`` inside a contact window."""
        local = earliest.astimezone(self.zone)
        for offset in range(SEARCH_DAYS):
            window = self.window(local.date() + datetime.timedelta(days=offset), customer)
            if window and max(window[0], local) < window[1]:
                return max(window[0], local).astimezone(datetime.UTC)
        return earliest  # no window in two months: the rooftop has no hours; do not lose the promise

    def first_window_start_on_or_after(self, day: datetime.date, customer: Customer | None = None) -> datetime.datetime:
        """The opening of the first contact window on local ``day`` or later."""
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=self.zone)
        return self.next_contact_time(start, customer)

    def previous_window(
        self, moment: datetime.datetime, customer: Customer | None = None, *, days_back: int = 7
    ) -> tuple[datetime.datetime, datetime.datetime] | None:
        """The latest contact window on a local day before ``moment``'s day."""
        day = moment.astimezone(self.zone).date()
        for offset in range(1, days_back + 1):
            window = self.window(day - datetime.timedelta(days=offset), customer)
            if window:
                return window
        return None

    def reminder_time(self, starts_at: datetime.datetime, customer: Customer | None = None) -> datetime.datetime:
        """The day-before reminder: the opening of the last contact window on an earlier day."""
        window = self.previous_window(starts_at, customer)
        return (window[0] if window else starts_at - datetime.timedelta(days=1)).astimezone(datetime.UTC)

    def confirmation_time(self, starts_at: datetime.datetime) -> datetime.datetime:
        """About an hour before ``starts_at``, inside business hours (the appointment sets the time, not the
        customer's usual window): at opening if the hour before is earlier, else late on the previous open day."""
        target = starts_at - datetime.timedelta(hours=1)
        window = self.window(target.astimezone(self.zone).date(), None)
        if window and window[0] <= target < window[1]:
            return target
        if window and target < window[0] < starts_at:
            return window[0].astimezone(datetime.UTC)
        previous = self.previous_window(starts_at)
        if previous:
            return max(previous[0], previous[1] - datetime.timedelta(minutes=30)).astimezone(datetime.UTC)
        return target
