"""What the specialist says on each kind of call 话术: greet, say why, ask, close. Shown beside the call."""

from django.utils.translation import gettext_lazy as _

from crm.vouchers import code_display

from .choices import FollowUpKind

GREETING = _(
    "Good day, Mr/Ms %(name)s. This is %(specialist)s, customer specialist at %(rooftop)s. "
    "Is now a good moment for a two-minute call?"
)
CLOSING = _("Thank you for your time. If anything comes up, %(rooftop)s is here for you any time.")

SCRIPTS = {
    FollowUpKind.DELIVERY_FOLLOWUP: [
        _("We handed over your new car two days ago: how is it going so far?"),
        _("Did your consultant explain the features, the warranty and the first service to you?"),
        _("On a scale of 1 to 5, how satisfied are you with the purchase and the delivery?"),
        _(
            "Is there anything about the car or about us that bothers you? (Anything but a 4 or 5: ask why, write it down.)"
        ),
    ],
    FollowUpKind.SERVICE_FOLLOWUP: [
        _("Your car was with us on %(date)s: is everything working as it should since then?"),
        _("Was the work explained to you and the car ready at the time we promised?"),
        _("On a scale of 1 to 5, how satisfied are you with this visit?"),
        _("Could we have done anything better? (A 1 or 2 opens a complaint: tell the customer we will call back.)"),
    ],
    FollowUpKind.APPOINTMENT_CONFIRMATION: [
        _("I am calling to confirm your appointment at %(when)s. Does the time still suit you?"),
        _("Please bring your service booklet; your advisor will be waiting for you."),
        _("If the time no longer suits you, offer another slot and book it now."),
    ],
    FollowUpKind.APPOINTMENT_REMINDER: [
        _("A reminder of your appointment at %(when)s. Does the time still suit you?"),
    ],
    FollowUpKind.NO_SHOW_CARE: [
        _("We were expecting you at %(when)s and hope everything is all right."),
        _("Would you like to book another time? Offer the next free slots."),
        _("Never reproach the customer; if they went elsewhere, ask why and note it."),
    ],
    FollowUpKind.MAINTENANCE_DUE: [
        _("Your car is due for its maintenance (%(reason)s). How many kilometres does it show now?"),
        _("Has it shown any warning light or noise lately? Note it for the advisor."),
        _("May I book an appointment for you? Booked customers skip the queue at reception."),
        _(
            "If they refuse: apologise for the call, ask why (already serviced, not interested, unhappy with us), don't insist."
        ),
    ],
    FollowUpKind.LEAD_FOLLOWUP: [
        _("Last time you were interested in a car from us: have you had time to think it over?"),
        _("Would you like a test drive or an updated quote?"),
    ],
    FollowUpKind.COMPLAINT_CALLBACK: [
        _("I am calling about the concern you raised with us: has it been resolved to your satisfaction?"),
        _("On a scale of 1 to 5, how satisfied are you with how we handled it?"),
        _("If it is not resolved, say what happens next and when we will call again."),
    ],
    FollowUpKind.SURVEY: [_("Ask the survey questions in order and note each answer.")],
    FollowUpKind.GREETING: [_("Give the rooftop's wishes; ask whether we can do anything for the customer.")],
    FollowUpKind.CAMPAIGN_CALL: [
        _("We are calling our valued customers about an offer: %(offer)s"),
        _("Would you like to book a visit to use it? (Booked: choose that outcome and note the time.)"),
        _("If they are not interested, thank them and don't insist; note why."),
    ],
}


def maintenance_reason(data: dict) -> str:
    """Why the car is due, in the reader's language: a date, a mileage, or both."""
    parts = []
    if data.get("due_on"):
        parts.append(str(_("by %(date)s") % {"date": data["due_on"]}))
    if data.get("due_km"):
        parts.append(
            str(_("at %(due)s km, %(now)s km on the last reading"))
            % {"due": data["due_km"], "now": data.get("odometer_km") or "?"}
        )
    return str(_(" or ")).join(parts)


def script_for(followup, specialist) -> dict:
    """The script of ``followup``'s kind with the customer's and rooftop's names filled in."""
    data = followup.data or {}
    when = data.get("starts_at", "")[:16].replace("T", " ")
    values = {
        "name": followup.customer.full_name,
        "specialist": getattr(specialist, "full_name", "") or str(specialist),
        "rooftop": followup.dealership.name,
        "date": (data.get("delivered_at") or followup.created_at.isoformat())[:10],
        "when": when,
        "reason": maintenance_reason(data),
        "offer": data.get("offer") or data.get("campaign", ""),
    }
    steps = [str(step) % values for step in SCRIPTS.get(followup.kind, [])]
    if data.get("voucher_code"):
        steps.insert(
            1,
            str(_("A voucher of ¥%(value)s is waiting for you, code %(code)s, valid until %(until)s."))
            % {
                "value": data.get("voucher_value", ""),
                "code": code_display(data["voucher_code"]),
                "until": data.get("valid_until", ""),
            },
        )
    if data.get("declined_work"):
        steps.append(
            str(_("Last time the customer postponed: %(work)s. Offer to do it on the same visit."))
            % {"work": "; ".join(data["declined_work"])}
        )
    return {"greeting": GREETING % values, "steps": steps, "closing": CLOSING % values}
