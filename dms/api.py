"""API plumbing shared by every app: pagination and the error format."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Conflict


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def validation_error_detail(error: DjangoValidationError):
    """Django's ValidationError as DRF's field → messages mapping."""
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    """Domain services raise Django's ValidationError; the API answers 400 with field messages, and
    409 when the record's state forbids the request (``dms.errors.Conflict``). A row a service cannot
    find for the caller is out of their scope: 404, the same as missing."""
    if isinstance(exc, ObjectDoesNotExist):
        exc = NotFound()
    if isinstance(exc, Conflict):
        return Response(validation_error_detail(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(validation_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if isinstance(exc, NotFound) and response is not None:
        response.data = {"detail": str(exc.detail)}
    return response
