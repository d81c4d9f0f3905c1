from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadSource(models.TextChoices):
    WALK_IN = "walk_in", _("Showroom walk-in")
    PHONE = "phone", _("Phone call")
    WEB = "web", _("Web / online")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Auto show / event")
    SECONDARY = "secondary", _("Secondary network")
    OTHER = "other", _("Other")


class Stage(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    NEEDS_ANALYSED = "needs_analysed", _("Needs analysed")
    PRESENTED = "presented", _("Presented")
    TEST_DRIVEN = "test_driven", _("Test-driven")
    NEGOTIATING = "negotiating", _("Negotiating")
    ORDERED = "ordered", _("Ordered")
    DELIVERED = "delivered", _("Delivered")
    LOST = "lost", _("Lost")
    DORMANT = "dormant", _("Dormant")


FUNNEL = (
    Stage.NEW,
    Stage.CONTACTED,
    Stage.NEEDS_ANALYSED,
    Stage.PRESENTED,
    Stage.TEST_DRIVEN,
    Stage.NEGOTIATING,
    Stage.ORDERED,
    Stage.DELIVERED,
)
OPEN_STAGES = FUNNEL[:6]


class Grade(models.TextChoices):
    H = "H", _("H: buys within 7 days")
    A = "A", _("A: within 15 days")
    B = "B", _("B: within 30 days")
    C = "C", _("C: later")


class Timeframe(models.TextChoices):
    WEEK = "week", _("Within a week")
    FORTNIGHT = "fortnight", _("Within 15 days")
    MONTH = "month", _("Within a month")
    LATER = "later", _("More than a month")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Showroom visit")
    PRESENTATION = "presentation", _("Product presentation")
    MESSAGE = "message", _("Message")
    TEST_DRIVE = "test_drive", _("Test drive")


class LostReview(models.TextChoices):
    NONE = "", _("(none)")
    APPLIED = "applied", _("Lost: awaiting the manager")
    APPROVED = "approved", _("Lost: approved")
    REJECTED = "rejected", _("Lost: rejected, keep following up")


class StockStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    IN_STOCK = "in_stock", _("In stock")
    RESERVED = "reserved", _("Reserved")
    SOLD = "sold", _("Sold")
    DELIVERED = "delivered", _("Delivered")


class TestDriveStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class OrderStatus(models.TextChoices):
    CONTRACTED = "contracted", _("Contract signed")
    PAID = "paid", _("Paid in full")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


LIVE_ORDER_STATUSES = (OrderStatus.CONTRACTED, OrderStatus.PAID, OrderStatus.DELIVERED)


class PdiItem(models.TextChoices):
    """The pre-delivery inspection the standards list, each ticked before the keys are handed over."""

    EXTERIOR = "exterior", _("Paint and body without damage")
    INTERIOR = "interior", _("Interior clean and complete")
    FLUIDS = "fluids", _("Oil, coolant, brake and washer fluids")
    TYRES = "tyres", _("Tyres and pressures, spare wheel and tools")
    ELECTRICS = "electrics", _("Lights, infotainment and electrics")
    ROAD_TEST = "road_test", _("Road test")
    WASHED = "washed", _("Washed and fuelled / charged")


class DeliveryDocument(models.TextChoices):
    INVOICE = "invoice", _("Vehicle purchase invoice")
    CERTIFICATE = "certificate", _("Certificate of conformity 合格证")
    WARRANTY = "warranty", _("Warranty manual")
    MANUAL = "manual", _("Owner's manual")
    INSURANCE = "insurance", _("Insurance policy")
    KEYS = "keys", _("All keys")
    CONFIRMATION = "confirmation", _("Delivery confirmation signed 交付确认书")
