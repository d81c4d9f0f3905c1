from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The staff roles; each is a Django auth group created by a data migration."""

    MANAGER = "Manager", _("Manager")
    SALES_CONSULTANT = "Sales consultant", _("Sales consultant")
    SERVICE_ADVISOR = "Service advisor", _("Service advisor")
    CUSTOMER_SPECIALIST = "Customer specialist", _("Customer specialist")
    TECHNICIAN = "Technician", _("Technician")
    ADMINISTRATOR = "Administrator", _("Administrator")


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Salutation(models.TextChoices):
    NONE = "", _("(none)")
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")
    DR = "dr", _("Dr")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")


class CustomerSource(models.TextChoices):
    WALK_IN = "walk_in", _("Showroom walk-in")
    PHONE = "phone", _("Phone call")
    WEB = "web", _("Web / online")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Auto show / event")
    SECONDARY_NETWORK = "secondary_network", _("Secondary network")
    SERVICE = "service", _("Service visit")
    OTHER = "other", _("Other")


class PlateRule(models.TextChoices):
    MAINLAND_CHINA = "cn", _("Mainland China plates")
    ANY = "any", _("Any plate (letters, digits)")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    INVESTIGATING = "investigating", _("Investigating")
    SOLUTION_AGREED = "solution_agreed", _("Solution agreed")
    IMPLEMENTED = "implemented", _("Implemented")
    CALLBACK_DONE = "callback_done", _("Call-back done")
    CLOSED = "closed", _("Closed")


# The one way through a complaint: each state names the states it may move to (absent = terminal).
# A customer still unhappy on the call-back sends it back to investigating.
COMPLAINT_NEXT = {
    ComplaintStatus.RECEIVED: (ComplaintStatus.INVESTIGATING,),
    ComplaintStatus.INVESTIGATING: (ComplaintStatus.SOLUTION_AGREED,),
    ComplaintStatus.SOLUTION_AGREED: (ComplaintStatus.IMPLEMENTED, ComplaintStatus.INVESTIGATING),
    ComplaintStatus.IMPLEMENTED: (ComplaintStatus.CALLBACK_DONE, ComplaintStatus.INVESTIGATING),
    ComplaintStatus.CALLBACK_DONE: (ComplaintStatus.CLOSED,),
}
OPEN_COMPLAINT_STATUSES = tuple(COMPLAINT_NEXT)


class ComplaintCategory(models.TextChoices):
    SERVICE_QUALITY = "service_quality", _("Repair quality")
    WAITING = "waiting", _("Waiting time")
    PRICE = "price", _("Price and billing")
    ATTITUDE = "attitude", _("Staff attitude")
    PARTS = "parts", _("Parts availability")
    VEHICLE = "vehicle", _("Vehicle quality")
    SALES = "sales", _("Sales and delivery")
    OTHER = "other", _("Other")


class ComplaintSource(models.TextChoices):
    FOLLOWUP_CALL = "followup_call", _("Follow-up call")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Walk-in")
    SURVEY = "survey", _("Survey")
    WEB = "web", _("Web")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class SurveyKind(models.TextChoices):
    SALES_DELIVERY = "sales_delivery", _("Sales delivery")
    SERVICE_VISIT = "service_visit", _("Service visit")


class QuestionScale(models.TextChoices):
    FIVE = "five", _("1 to 5")
    TEN = "ten", _("0 to 10")
    TEXT = "text", _("Free text")


class SurveyStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")


class SurveyChannel(models.TextChoices):
    LINK = "link", _("Link sent to the customer")
    CALL = "call", _("Asked on the phone")


class SalesChannel(models.TextChoices):
    """Where the car was sold: the retention page compares own sales with the secondary network's."""

    OWN = "own", _("Our showroom")
    SECONDARY = "secondary", _("Secondary network")
    OTHER_DEALER = "other_dealer", _("Another dealer")
    UNKNOWN = "unknown", _("Unknown")


class VoucherKind(models.TextChoices):
    REFERRAL = "referral", _("Referral fund")
    CONSOLATION = "consolation", _("Complaint consolation")
    LOYALTY = "loyalty", _("Loyalty reward")
    WIN_BACK = "win_back", _("Win-back")


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REDEEMED = "redeemed", _("Redeemed")
    VOID = "void", _("Void")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")


class CampaignChannel(models.TextChoices):
    CALL = "call", _("Phone call")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")


class RevealedField(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    OTHER_PHONE = "other_phone", _("Other phone")
    ID_NUMBER = "id_number", _("ID number")
