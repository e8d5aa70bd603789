"""Owners' and handlers' photos: JPEG or PNG only, decoded and re-encoded on the server.

A phone's photo carries EXIF: the camera, the time and often the GPS position
of the owner's home. Nothing of the uploaded file is kept but its pixels: it
is decoded with Pillow (recognised by content, never by name), turned upright
by its orientation tag, brought to sRGB, scaled to at most 2560 px, and
encoded afresh without any metadata, with a 320 px JPEG thumbnail for lists.
Every photo of a request is checked before the first is written, so a refused
one (a text file named .jpg, a truncated image, an image bomb) leaves no file.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from voting.models import Community, Upload, User
from voting.services import uploads
from voting.services.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024  # as uploaded
# Decoding more would take memory no phone photo needs. A JPEG is decoded already scaled
# down (by 1/2, 1/4 or 1/8, as its format allows) to about the size kept, so a 50
# megapixel camera's photo costs a quarter of its pixels; a PNG has no such decoding,
# every pixel takes 4 bytes, and phones make PNGs only of screenshots.
MAX_PIXELS = {"JPEG": 50_000_000, "PNG": 25_000_000}
LONGEST_SIDE = 2560
_REDUCIBLE = frozenset({"L", "LA", "I", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr"})
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
PHOTO, THUMBNAIL = "ticket-photo", "ticket-thumb"


class PhotoRefused(InvalidInput):
    """A file that is not a photo we keep; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Photo:
    """A photo ready to store: the clean image and its thumbnail (both bare of metadata)."""

    content: bytes
    content_type: str
    thumbnail: bytes
    width: int
    height: int


def prepare(content: bytes, name: str = "") -> Photo:
    """Decode and re-encode ``content``, or refuse it with PhotoRefused."""
    label = name or _("照片")
    if not content:
        raise PhotoRefused("photo_empty", _("%(name)s 是空文件", name=label))
    if len(content) > MAX_BYTES:
        raise PhotoRefused(
            "photo_too_large",
            _("%(name)s 超过 %(mb)d MB", name=label, mb=MAX_BYTES // (1024 * 1024)),
        )
    image, kind = _decode(content, label)
    image = _upright_srgb(image)
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    stored, content_type = _encode(image, kind)
    return Photo(stored, content_type, _thumbnail(image), image.width, image.height)


def _decode(content: bytes, label: str) -> tuple[Image.Image, str]:
    not_a_photo = PhotoRefused(
        "photo_not_image", _("%(name)s 不是 JPEG 或 PNG 图片，无法读取", name=label)
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(content), formats=list(FORMATS))
            kind = opened.format or ""
            if opened.width * opened.height > MAX_PIXELS.get(kind, 0):
                raise PhotoRefused(
                    "photo_too_many_pixels", _("%(name)s 的像素太多，请缩小后再上传", name=label)
                )
            if kind == "JPEG":
                opened.draft(opened.mode, _kept_size(opened.size))
            opened.load()
            image: Image.Image = opened
            factor = max(image.size) // LONGEST_SIDE
            # What is kept is smaller: let go of the full pixels at once. Not for a palette,
            # 1-bit or 16-bit image (reduce refuses them; at a byte or two a pixel they are
            # small anyway), which the scaling after its conversion to sRGB takes down.
            if factor > 1 and image.mode in _REDUCIBLE:
                image = image.reduce(factor)
                del opened
    except PhotoRefused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoRefused(
            "photo_too_many_pixels", _("%(name)s 的像素太多，请缩小后再上传", name=label)
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise not_a_photo from None
    if kind not in FORMATS:
        raise not_a_photo
    return image, kind


def _kept_size(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled so that its longer side is ``LONGEST_SIDE`` (never enlarged)."""
    longest = max(size)
    if longest <= LONGEST_SIDE:
        return size
    return (
        max(1, size[0] * LONGEST_SIDE // longest),
        max(1, size[1] * LONGEST_SIDE // longest),
    )


def _upright_srgb(image: Image.Image) -> Image.Image:
    """The pixels as they are meant to be seen, in sRGB, with no metadata left."""
    icc = image.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(image) or image
    except (SyntaxError, ValueError, OSError, EOFError):
        upright = image  # unreadable EXIF (a PNG's eXIf chunk of garbage): as the pixels lie
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    if icc and upright.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                upright, source, ImageCms.createProfile("sRGB"), outputMode=mode
            )
            if converted is not None:
                upright = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: keep the pixels as they are
    clean = upright.convert(mode)
    clean.info = {}
    return clean


def _encode(image: Image.Image, kind: str) -> tuple[bytes, str]:
    """PNG stays PNG unless it would exceed the upload limit (a photo saved as PNG)."""
    if kind == "PNG":
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), FORMATS["PNG"]
    return _jpeg(image, JPEG_QUALITY), FORMATS["JPEG"]


def _jpeg(image: Image.Image, quality: int) -> bytes:
    if image.mode == "RGBA":  # JPEG has no transparency: lay it on white
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return _jpeg(small, 80)


def prepare_all(files: Sequence[tuple[str, bytes]], limit: int) -> list[Photo]:
    """Every file checked and re-encoded before anything is stored (all or nothing)."""
    if len(files) > limit:
        raise PhotoRefused("too_many_photos", _("最多上传 %(n)d 张照片", n=limit))
    return [prepare(content, name) for name, content in files]


def store(community: Community, photo: Photo, user: User | None) -> tuple[Upload, Upload]:
    """Keep a prepared photo and its thumbnail; rows added to the session, not committed."""
    extension = "png" if photo.content_type == FORMATS["PNG"] else "jpg"
    full = uploads.store(community, f"photo.{extension}", photo.content, PHOTO, user)
    small = uploads.store(community, "thumbnail.jpg", photo.thumbnail, THUMBNAIL, user)
    return full, small
