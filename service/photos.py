"""Photos from the tablet's camera: the walk-around's damage and the additional work found. Each is
checked to be a JPEG, PNG or WebP image of at most ``PHOTO_MAX_BYTES`` (Pillow reads it; the name and
the browser's content type are not trusted) and stored under a random name through Django's storage."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def max_bytes() -> int:
    return int(getattr(settings, "PHOTO_MAX_BYTES", 8 * 1024 * 1024))


def checked_photo(upload):
    """``upload`` renamed to a random name with its real extension, or ValidationError."""
    if upload.size > max_bytes():
        raise ValidationError(
            {
                "photo": _("The photo is %(size)s; at most %(max)s.")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(max_bytes())}
            }
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError({"photo": _("This file is not a photo (JPEG, PNG or WebP).")}) from None
    if kind not in FORMATS:
        raise ValidationError({"photo": _("This file is not a photo (JPEG, PNG or WebP).")})
    upload.seek(0)
    upload.name = f"{uuid.uuid4().hex}.{FORMATS[kind]}"
    return upload
