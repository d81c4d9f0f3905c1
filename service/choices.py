from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceType(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    QUICK = "quick", _("Quick service")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULED = "rescheduled", _("Rescheduled")


# An appointment in one of these holds its bay for the slot.
HOLDING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED)


class PayType(models.TextChoices):
    CUSTOMER = "customer", _("Customer pay")
    WARRANTY = "warranty", _("Warranty")
    INTERNAL = "internal", _("Internal")


class RepairOrderStatus(models.TextChoices):
    """The repair order's life: the board's columns are approved (waiting) to ready."""

    ESTIMATE = "estimate", _("Estimate")
    APPROVED = "approved", _("Waiting for the workshop")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    QUALITY_CHECK = "quality_check", _("Quality check")
    READY = "ready", _("Ready for delivery")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    RepairOrderStatus.ESTIMATE,
    RepairOrderStatus.APPROVED,
    RepairOrderStatus.IN_PROGRESS,
    RepairOrderStatus.WAITING_PARTS,
    RepairOrderStatus.QUALITY_CHECK,
    RepairOrderStatus.READY,
)
BOARD_STATUSES = OPEN_STATUSES[1:]


class LineStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting the customer's approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class ApprovalChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person, signed")
    PHONE = "phone", _("By phone")
    LINK = "link", _("By the approval link")
    IMPLIED = "implied", _("Within the agreed tolerance")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    TRANSFER = "transfer", _("Bank transfer")
    WARRANTY_CLAIM = "warranty_claim", _("Warranty claim")
    INTERNAL = "internal", _("Internal account")


class OldParts(models.TextChoices):
    RETURN = "return", _("Return to the customer")
    DISPOSE = "dispose", _("Dispose of at the dealership")
    WARRANTY = "warranty", _("Keep for the warranty claim")


class Panel(models.TextChoices):
    FRONT_BUMPER = "front_bumper", _("Front bumper")
    BONNET = "bonnet", _("Bonnet")
    ROOF = "roof", _("Roof")
    BOOT = "boot", _("Boot lid")
    REAR_BUMPER = "rear_bumper", _("Rear bumper")
    FRONT_LEFT = "front_left", _("Front left wing")
    FRONT_RIGHT = "front_right", _("Front right wing")
    DOOR_FRONT_LEFT = "door_front_left", _("Front left door")
    DOOR_FRONT_RIGHT = "door_front_right", _("Front right door")
    DOOR_REAR_LEFT = "door_rear_left", _("Rear left door")
    DOOR_REAR_RIGHT = "door_rear_right", _("Rear right door")
    REAR_LEFT = "rear_left", _("Rear left wing")
    REAR_RIGHT = "rear_right", _("Rear right wing")
    WINDSCREEN = "windscreen", _("Windscreen")
    WHEELS = "wheels", _("Wheels and tyres")


class Damage(models.TextChoices):
    SCRATCH = "scratch", _("Scratch")
    DENT = "dent", _("Dent")
    CRACK = "crack", _("Crack")
    CHIP = "chip", _("Stone chip")
    OTHER = "other", _("Other")
