"""Ticket photos: only JPEG and PNG, re-encoded so no EXIF (GPS above all) is kept."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from tests.helpers import stored_files
from voting.services import uploads
from voting.services.tickets import photos

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (29.0, 33.0, 12.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (106.0, 30.0, 5.25),
}


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.DateTime] = "2026:03:02 09:15:00"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def test_the_fixture_really_carries_gps() -> None:
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"


def test_a_stored_photo_has_no_exif(app, make) -> None:  # type: ignore[no-untyped-def]
    community = make.community()
    content = jpeg_with_gps()
    [photo] = photos.prepare_all([("IMG_0001.jpg", content)], 4)
    full, thumb = photos.store(community, photo, None)
    for upload in (full, thumb):
        stored = uploads.content_of(upload.sha256)
        assert stored is not None
        assert upload.content_type == "image/jpeg" and stored.startswith(b"\xff\xd8\xff")
        image = Image.open(io.BytesIO(stored))
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert "exif" not in image.info and "icc_profile" not in image.info
        # No APP1 segment at all, and none of the camera's words.
        assert b"Exif\x00\x00" not in stored and b"PhoneMaker" not in stored
    assert (full.purpose, thumb.purpose) == ("ticket-photo", "ticket-thumb")
    assert full.sha256 != __import__("hashlib").sha256(content).hexdigest()


def test_pixels_survive_upright(app) -> None:  # type: ignore[no-untyped-def]
    # Orientation 6: the camera held sideways, to be turned 90° clockwise.
    photo = photos.prepare(jpeg_with_gps((64, 48), orientation=6))
    image = Image.open(io.BytesIO(photo.content))
    assert image.size == (48, 64) == (photo.width, photo.height)
    # The blue left half is now the top half.
    red, _green, blue = image.getpixel((24, 8))
    assert blue > 150 and red < 100


def test_a_photo_with_unreadable_exif_is_kept_as_its_pixels_lie(app) -> None:  # type: ignore[no-untyped-def]
    # Pillow reads a PNG's eXIf chunk only when asked for the orientation (a 500 before).
    out = io.BytesIO()
    Image.new("RGB", (10, 6), "red").save(out, "PNG", exif=b"garbage" * 3)
    photo = photos.prepare(out.getvalue(), "a.png")
    image = Image.open(io.BytesIO(photo.content))
    assert image.size == (10, 6) and image.getpixel((0, 0))[:3] == (255, 0, 0)
    assert "exif" not in image.info


def test_large_photos_are_scaled_and_get_a_small_thumbnail(app) -> None:  # type: ignore[no-untyped-def]
    photo = photos.prepare(jpeg_with_gps((3000, 1500)))
    assert (photo.width, photo.height) == (2560, 1280)
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (320, 160)


def test_a_camera_s_full_size_photo_is_kept_upright_at_the_size_kept(app) -> None:  # type: ignore[no-untyped-def]
    # 24 megapixels held sideways: the JPEG is decoded already halved, then turned.
    photo = photos.prepare(jpeg_with_gps((6000, 4000), orientation=6))
    assert (photo.width, photo.height) == (1707, 2560)
    image = Image.open(io.BytesIO(photo.content))
    red, _green, blue = image.getpixel((850, 300))  # the blue left half is now the top
    assert blue > 150 and red < 100
    red, _green, blue = image.getpixel((850, 2200))
    assert red > 150 and blue < 100


def test_a_large_png_is_reduced_at_once_and_a_larger_one_refused(app) -> None:  # type: ignore[no-untyped-def]
    """A PNG's every pixel is decoded (4 bytes each): 25 megapixels at most, for
    screenshots; a 7000 × 7000 one took 640 MB to keep at 2560 px."""
    out = io.BytesIO()
    image = Image.new("RGB", (6000, 4000), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, 3000, 4000))
    image.save(out, "PNG")
    photo = photos.prepare(out.getvalue())
    assert (photo.width, photo.height) == (2560, 1707)
    kept = Image.open(io.BytesIO(photo.content))
    assert kept.getpixel((100, 100))[2] > 150 and kept.getpixel((2400, 100))[0] > 150
    for mode in ("P", "1", "I;16"):  # a palette, 1-bit or 16-bit PNG is not reduced: kept
        out = io.BytesIO()
        Image.new(mode, (6000, 1000)).save(out, "PNG")
        assert (photos.prepare(out.getvalue()).width, mode) == (2560, mode)
    out = io.BytesIO()
    Image.new("1", (7000, 4000)).save(out, "PNG")  # 28 megapixels
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.prepare(out.getvalue())
    assert refused.value.code == "photo_too_many_pixels"


def test_png_stays_png_with_its_transparency_and_no_text_chunks(app) -> None:  # type: ignore[no-untyped-def]
    from PIL import PngImagePlugin

    image = Image.new("RGBA", (40, 40), (0, 128, 0, 0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home at 29.55N 106.50E")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    photo = photos.prepare(out.getvalue())
    assert photo.content_type == "image/png"
    assert b"29.55N" not in photo.content and b"tEXt" not in photo.content
    assert Image.open(io.BytesIO(photo.content)).getpixel((1, 1))[3] == 0
    assert Image.open(io.BytesIO(photo.thumbnail)).format == "JPEG"


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "photo_empty"),
        (b"This is a letter, not a photo.\n" * 10, "photo_not_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "photo_not_image"),  # a JPEG start, then nothing
        (b"%PDF-1.7\n" + b"x" * 100, "photo_not_image"),
        (gif(), "photo_not_image"),
        (b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), "photo_too_large"),
    ],
    ids=["empty", "text", "broken-jpeg", "pdf", "gif", "over-10-mb"],
)
def test_anything_else_is_refused_and_leaves_no_file(app, content: bytes, code: str) -> None:  # type: ignore[no-untyped-def]
    before = stored_files()
    with pytest.raises(photos.PhotoRefused) as refused:
        # A good photo first: it must not be written either.
        photos.prepare_all([("ok.jpg", jpeg_with_gps()), ("IMG_0002.jpg", content)], 4)
    assert refused.value.code == code
    assert "IMG_0002.jpg" in refused.value.message
    assert stored_files() == before  # not even in the transaction: refused before any write


def test_an_image_bomb_is_refused_before_it_is_decoded(app) -> None:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    assert len(out.getvalue()) < 200_000
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.prepare(out.getvalue())
    assert refused.value.code == "photo_too_many_pixels"


def test_at_most_four(app, make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.prepare_all([("a.jpg", jpeg_with_gps())] * 5, 4)
    assert refused.value.code == "too_many_photos"
