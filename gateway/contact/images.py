"""Images taken as attachments: decoded once (with PyAV, which the gateway uses for call media) to prove they are
what their first bytes say, measured, and scaled down to a thumbnail.

An image that does not decode, or whose size is beyond :data:`MAX_PIXELS` (a small file that would unpack to
gigabytes), is refused with :class:`BadImage`. A GIF's size is the four bytes after its magic, whatever follows: its
blocks are walked up to its first image before that size is believed (``GIF89a<!doctype html>...`` is no image,
not one of 8508x28516 pixels). The work is CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import av
from av.video.codeccontext import VideoCodecContext

from gateway.contact.sniff import MediaType

MAX_PIXELS = 40_000_000  # 40 megapixels: any camera's photo; a decompression bomb is refused before decoding
THUMB_SIDE = 320  # the thumbnail's longer side, at most (smaller images keep their size)

_DEMUXERS = {MediaType.PNG: "png_pipe", MediaType.JPEG: "jpeg_pipe", MediaType.WEBP: "webp_pipe", MediaType.GIF: "gif"}


_NAMES = {MediaType.PNG: "PNG", MediaType.JPEG: "JPEG", MediaType.WEBP: "WebP", MediaType.GIF: "GIF"}


class BadImage(ValueError):
    """The content does not decode as the image its first bytes announce (or is too large to)."""


@dataclass(frozen=True, slots=True)
class Image:
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: MediaType  # JPEG, or PNG for an image with transparency


def inspect_image(data: bytes, media_type: MediaType) -> Image:
    """Decode the first frame of ``data``: its size and a thumbnail; :class:`BadImage` if it does not decode."""
    if media_type is MediaType.GIF and not _gif_reaches_an_image(data):
        raise BadImage("the file is not a valid GIF image (its content after the GIF header is something else)")
    try:
        with av.open(io.BytesIO(data), "r", format=_DEMUXERS[media_type]) as container:
            if not container.streams.video:
                raise BadImage("no image in the file")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > MAX_PIXELS:
                raise BadImage(
                    f"the image is {width}x{height} pixels, over the {MAX_PIXELS // 1_000_000}-megapixel limit"
                )
            frame = next(container.decode(stream), None)
    except av.error.FFmpegError as exc:  # noqa: F821 - av.error is PyAV's error module
        raise BadImage(f"the file is not a valid {_NAMES[media_type]} image") from exc
    if frame is None or frame.width <= 0 or frame.height <= 0:
        raise BadImage(f"the file is not a valid {_NAMES[media_type]} image")
    if frame.width * frame.height > MAX_PIXELS:
        raise BadImage(
            f"the image is {frame.width}x{frame.height} pixels, over the {MAX_PIXELS // 1_000_000}-megapixel limit"
        )
    return Image(frame.width, frame.height, *_thumbnail(frame))


_GIF_EXTENSION, _GIF_IMAGE, _GIF_TRAILER = 0x21, 0x2C, 0x3B


def _gif_reaches_an_image(data: bytes) -> bool:
    """Whether ``data``'s blocks, from its screen descriptor on, are a GIF's up to the start of a first image: a
    colour table where its flag says, extensions (each a label and sub-blocks ending in an empty one), then an image
    descriptor with its own colour table and a code size of 2 to 12 bits. Nothing is decoded (a walk of the bytes)."""

    def colour_table_end(at: int, flags: int) -> int:
        return at + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)

    at = colour_table_end(13, data[10]) if len(data) >= 13 else len(data) + 1
    while at < len(data):
        block = data[at]
        if block == _GIF_IMAGE:
            at = colour_table_end(at + 10, data[at + 9]) if at + 10 <= len(data) else len(data)
            return at < len(data) and 2 <= data[at] <= 12
        if block != _GIF_EXTENSION or at + 2 > len(data):
            return False  # a trailer before any image, or bytes that are no block at all
        at += 2  # the introducer and the extension's label
        while at < len(data) and data[at]:
            at += 1 + data[at]
        at += 1  # the empty sub-block that ends the extension
    return False


def _thumbnail(frame: av.VideoFrame) -> tuple[bytes, MediaType]:
    scale = min(1.0, THUMB_SIDE / max(frame.width, frame.height))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    alpha = "a" in frame.format.name or frame.format.name in ("pal8",)
    codec, pix_fmt, kind = ("png", "rgba", MediaType.PNG) if alpha else ("mjpeg", "yuvj420p", MediaType.JPEG)
    if kind is MediaType.JPEG:  # 4:2:0 wants even sides
        width, height = width + width % 2, height + height % 2
    scaled = frame.reformat(width=width, height=height, format=pix_fmt, interpolation="AREA")
    encoder = cast(VideoCodecContext, av.CodecContext.create(codec, "w"))
    encoder.width, encoder.height, encoder.pix_fmt = width, height, pix_fmt
    encoder.time_base = Fraction(1, 25)
    if kind is MediaType.JPEG:
        encoder.options = {"qmin": "2", "qmax": "6"}
    packets = encoder.encode(scaled) + encoder.encode(None)
    return b"".join(bytes(p) for p in packets), kind
