"""Every bad Caption request gets INVALID_ARGUMENT naming the problem; the server keeps serving."""

from __future__ import annotations

import io
import struct
import zlib

import grpc
import numpy as np
import pytest
from PIL import Image

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import ServerProcess


def _encoded(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _request(*images: pb.CaptionImage, **options: int) -> pb.CaptionRequest:
    return pb.CaptionRequest(model="scenes", images=list(images),
                             options=pb.DecodingOptions(**options))


def _tensor(shape: list[int], dtype: str = "float32", data: bytes | None = None) -> pb.CaptionImage:
    count = int(np.prod(shape))
    payload = data if data is not None else np.zeros(count, "<f4").tobytes()
    return pb.CaptionImage(tensor=pb.ImageTensor(shape=shape, dtype=dtype, data=payload))


GOOD = pb.CaptionImage(encoded=_encoded((48, 48)))
PNG = _encoded((48, 48))
CASES = [
    ("corrupt image bytes", _request(pb.CaptionImage(encoded=b"\x89PNG\r\n\x1a\nnot really")),
     "images[0]"),
    ("truncated png", _request(pb.CaptionImage(encoded=PNG[: len(PNG) // 2])), "images[0]"),
    ("unsupported format (GIF)", _request(pb.CaptionImage(encoded=_encoded((48, 48), "GIF"))),
     "supported formats"),
    ("unsupported format (BMP)", _request(pb.CaptionImage(encoded=_encoded((48, 48), "BMP"))),
     "supported formats"),
    ("empty image bytes", _request(pb.CaptionImage(encoded=b"")), "images[0]"),
    ("zero-size image", _request(pb.CaptionImage(encoded=_png_header_claiming(0, 48))),
     "images[0]"),
    ("over the pixel limit", _request(pb.CaptionImage(encoded=_encoded((600, 600)))),
     "max_pixels"),
    ("decompression bomb header", _request(pb.CaptionImage(
        encoded=_png_header_claiming(100_000, 100_000))), "images[0]"),
    ("over the byte limit", _request(pb.CaptionImage(encoded=b"\x89PNG" + b"\0" * 200_001)),
     "max_image_bytes"),
    ("tensor of the wrong shape", _request(_tensor([3, 32, 32])), "shape"),
    ("tensor of the wrong dtype", _request(_tensor([3, 48, 48], dtype="float64")), "dtype"),
    ("tensor data size mismatch", _request(_tensor([3, 48, 48], data=b"\0" * 12)), "bytes"),
    ("tensor with NaN", _request(_tensor(
        [3, 48, 48], data=np.full(3 * 48 * 48, np.nan, "<f4").tobytes())), "NaN"),
    ("no images", _request(), "no images"),
    ("too many images", _request(*[GOOD] * 5), "max_images"),
    ("image with no input set", _request(pb.CaptionImage()), "images[0]"),
    ("beam size over the limit", _request(GOOD, beam_size=7), "max_beam_size"),
]


@pytest.mark.parametrize(("case", "bad", "mentions"), CASES, ids=[c[0] for c in CASES])
def test_bad_caption_request_is_invalid_argument(
    caption_server: ServerProcess, case: str, bad: pb.CaptionRequest, mentions: str
) -> None:
    channel = grpc.insecure_channel(caption_server.address)
    client = pb_grpc.SeqServeStub(channel)
    with channel:
        with pytest.raises(grpc.RpcError) as raised:
            client.Caption(bad, timeout=30)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
        assert mentions in raised.value.details()
        good = client.Caption(_request(GOOD), timeout=30)
    assert good.captions[0].hypotheses
    assert caption_server.alive()
