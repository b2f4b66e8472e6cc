"""The exported captioner served by the real server through the shared DecodeScheduler."""

from __future__ import annotations

import io
import json
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

from seqserve.models.data.scenes import held_out_scenes
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.repository.captioner_config import ImagePreprocessing
from seqserve.server.repository.image_input import normalise
from tests.support.server_process import ServerProcess


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def tensor(array: np.ndarray) -> pb.ImageTensor:
    values = normalise(array.astype(np.float32), ImagePreprocessing())
    return pb.ImageTensor(shape=list(values.shape), dtype="float32",
                          data=values.astype("<f4").tobytes())


def test_manifest_records_greedy_and_beam_bleu(captioner_repository: Path) -> None:
    manifest = json.loads((captioner_repository / "scenes" / "1" / "manifest.json").read_text())
    quality = manifest["quality"]
    assert {"greedy", "beam5"} <= set(quality)
    assert quality["greedy"]["bleu4"] > 0
    assert manifest["parity"]["encoder"]["max_abs_diff"] < 1e-4


def test_png_jpeg_and_tensor_inputs_get_nbest_captions(caption_server: ServerProcess) -> None:
    scene = held_out_scenes(1)[0]
    buffer = io.BytesIO()
    Image.fromarray(scene.image).save(buffer, format="JPEG", quality=95)
    request = pb.CaptionRequest(
        model="scenes",
        images=[pb.CaptionImage(encoded=png(scene.image)),
                pb.CaptionImage(encoded=buffer.getvalue()),
                pb.CaptionImage(tensor=tensor(scene.image))],
        options=pb.DecodingOptions(beam_size=4, n_best=3),
    )
    channel = grpc.insecure_channel(caption_server.address)
    with channel:
        response = pb_grpc.SeqServeStub(channel).Caption(request, timeout=60)
    assert response.model == "scenes" and len(response.captions) == 3
    png_caption, jpeg_caption, tensor_caption = response.captions
    assert len(png_caption.hypotheses) == 3
    scores = [h.score for h in png_caption.hypotheses]
    assert scores == sorted(scores, reverse=True)
    assert png_caption.hypotheses[0].text
    # A PNG decodes to exactly the rendered array: same answer as the raw tensor.
    assert png_caption.hypotheses[0].text == tensor_caption.hypotheses[0].text
    assert jpeg_caption.hypotheses[0].text
