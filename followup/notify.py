"""Telling staff about something that needs them, by email (the console backend in development)."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from crm.models import Complaint, User


def notify_staff(*, user_id: int, complaint_id: int) -> None:
    """Tell the advisor or consultant that a follow-up call opened a complaint about their customer."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    complaint = Complaint.objects.select_related("customer").filter(pk=complaint_id).first()
    if user is None or complaint is None or not user.email:
        return
    send_mail(
        subject=_("Complaint from %(name)s") % {"name": complaint.customer.full_name},
        message=_("A follow-up call found %(name)s dissatisfied: %(text)s")
        % {"name": complaint.customer.full_name, "text": complaint.description},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
        fail_silently=True,
    )
