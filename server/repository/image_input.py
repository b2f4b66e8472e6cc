"""Images for captioners: encoded bytes or raw tensors -> the normalised array the
encoder graph takes, with every bad input an InvalidArgumentError naming it.

Pillow reads only the header first (Image.open is lazy), so the pixel limit is
checked before any pixel is decoded: a small file declaring a huge image (a
decompression bomb) is refused without allocating it.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from seqserve.server.errors import InvalidArgumentError
from seqserve.server.repository.captioner_config import CaptionerLimits, ImagePreprocessing

FORMATS = ("PNG", "JPEG")


def decode_image(
    data: bytes, pre: ImagePreprocessing, limits: CaptionerLimits, *, where: str
) -> np.ndarray:
    """PNG/JPEG bytes -> float32 [C,H,W], resized to the configured size and normalised."""
    return decode_opened(open_image(data, limits, where=where), pre, where=where)


def check_request_pixels(images: list[Image.Image], limits: CaptionerLimits) -> None:
    """All images of one request together: many small files each declaring the most
    pixels allowed must not cost seconds of decoding between them."""
    total = sum(image.size[0] * image.size[1] for image in images)
    if total > limits.max_request_pixels:
        raise InvalidArgumentError(
            f"the request's {len(images)} images hold {total} pixels together, over "
            f"max_request_pixels={limits.max_request_pixels}"
        )


def open_image(data: bytes, limits: CaptionerLimits, *, where: str) -> Image.Image:
    """Read the header only (no pixel decoded yet), checking bytes and pixels."""
    if not data:
        raise InvalidArgumentError(f"{where}: empty image bytes")
    if len(data) > limits.max_image_bytes:
        raise InvalidArgumentError(
            f"{where}: {len(data)} bytes exceed max_image_bytes={limits.max_image_bytes}"
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns (or raises) by its global limit;
            # ours is per model and explicit below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except Image.DecompressionBombError as exc:
        raise InvalidArgumentError(f"{where}: image over the pixel limit ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise InvalidArgumentError(
            f"{where}: not a decodable image (supported formats: {', '.join(FORMATS)})"
        ) from exc
    except Exception as exc:  # Pillow raises OSError/SyntaxError/struct.error on bad headers
        raise InvalidArgumentError(f"{where}: corrupt image header ({exc})") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidArgumentError(f"{where}: zero-size image ({width}x{height})")
    if width * height > limits.max_pixels:
        raise InvalidArgumentError(
            f"{where}: {width}x{height} = {width * height} pixels exceed "
            f"max_pixels={limits.max_pixels}"
        )
    return image


def decode_opened(image: Image.Image, pre: ImagePreprocessing, *, where: str) -> np.ndarray:
    try:
        rgb = image.convert("RGB")
        if rgb.size != (pre.width, pre.height):
            rgb = rgb.resize((pre.width, pre.height), Image.BILINEAR)
        pixels = np.asarray(rgb, dtype=np.float32)
    except Exception as exc:  # truncated or corrupt pixel data, whatever Pillow raises
        raise InvalidArgumentError(f"{where}: corrupt image data ({exc})") from exc
    return normalise(pixels, pre)


def normalise(pixels: np.ndarray, pre: ImagePreprocessing) -> np.ndarray:
    """float [H,W,3] in 0..255 -> float32 [3,H,W] normalised."""
    mean = np.array(pre.mean, np.float32).reshape(3, 1, 1)
    std = np.array(pre.std, np.float32).reshape(3, 1, 1)
    return ((pixels.transpose(2, 0, 1) / 255.0 - mean) / std).astype(np.float32)


def check_tensor(array: np.ndarray, pre: ImagePreprocessing, *, where: str) -> np.ndarray:
    """A raw tensor must already be [C,H,W] float32, normalised, and finite."""
    expected = (pre.channels, pre.height, pre.width)
    if array.dtype != np.float32:
        raise InvalidArgumentError(f"{where}: dtype {array.dtype} is not float32")
    if tuple(array.shape) != expected:
        raise InvalidArgumentError(
            f"{where}: shape {list(array.shape)} is not the model's {list(expected)}"
        )
    if not np.isfinite(array).all():
        raise InvalidArgumentError(f"{where}: tensor holds NaN or infinity")
    return array
