"""Procedurally rendered scenes with compositional captions (the captioner's data).

Scenes hold one object ("a big red circle"), two objects in a spatial
relation ("a small blue square left of a big green triangle"), or two/three
identical objects ("three small yellow squares"). Some colour+shape pairs
(HELD_OUT) never appear in training scenes; the test split is made of scenes
that each contain one, so its score measures recombining known words, not
recalling seen images. Rendering is plain numpy (uint8 RGB), so a PNG of a
scene decodes to exactly the array the model was trained on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

SIZE = 48
COLOURS = {
    "red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 230), "yellow": (230, 210, 40),
}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 5, "big": 9}
RELATIONS = ("left of", "right of", "above", "below")
COUNTS = {2: "two", 3: "three"}
HELD_OUT = frozenset({("red", "triangle"), ("blue", "circle"), ("green", "square")})
"""Colour+shape pairs that never occur in training scenes."""


@dataclass(frozen=True)
class Thing:
    colour: str
    shape: str
    size: str

    def phrase(self, plural: bool = False) -> str:
        return f"{self.size} {self.colour} {self.shape}{'s' if plural else ''}"


@dataclass(frozen=True)
class Scene:
    image: np.ndarray
    """uint8 [SIZE, SIZE, 3]."""
    caption: str


def _draw(canvas: np.ndarray, thing: Thing, cx: int, cy: int) -> None:
    r = SIZES[thing.size]
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    if thing.shape == "circle":
        mask = (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
    elif thing.shape == "square":
        mask = (abs(xs - cx) <= r * 0.85) & (abs(ys - cy) <= r * 0.85)
    else:  # an upward triangle: apex at top, base at bottom
        top, bottom = cy - r, cy + r
        half = (ys - top) / max(2 * r, 1) * r
        mask = (ys >= top) & (ys <= bottom) & (abs(xs - cx) <= half)
    canvas[mask] = COLOURS[thing.colour]


def _thing(rng: random.Random, allowed: list[tuple[str, str]]) -> Thing:
    colour, shape = rng.choice(allowed)
    return Thing(colour, shape, rng.choice(list(SIZES)))


def _background(rng: random.Random) -> np.ndarray:
    shade = rng.randint(0, 40)
    return np.full((SIZE, SIZE, 3), shade, dtype=np.uint8)


def render(rng: random.Random, allowed: list[tuple[str, str]], *, must: tuple[str, str] | None
           = None) -> Scene:
    """One random scene from colour+shape pairs `allowed` (`must` appears in it if given)."""
    kind = rng.choices(("one", "pair", "count"), weights=(1, 2, 1))[0]
    canvas = _background(rng)
    first = _thing(rng, [must] if must else allowed)
    if kind == "one":
        _draw(canvas, first, rng.randint(12, 36), rng.randint(12, 36))
        return Scene(canvas, f"a {first.phrase()}")
    if kind == "count":
        n = rng.choice(list(COUNTS))
        cells = rng.sample([(x, y) for x in (10, 24, 38) for y in (10, 24, 38)], n)
        thing = Thing(first.colour, first.shape, "small")
        for x, y in cells:
            _draw(canvas, thing, x + rng.randint(-1, 1), y + rng.randint(-1, 1))
        return Scene(canvas, f"{COUNTS[n]} {thing.phrase(plural=True)}")
    second = _thing(rng, allowed)
    while second == first:
        second = _thing(rng, allowed)
    if rng.random() < 0.5:  # the held-out object may be either one
        first, second = second, first
    relation = rng.choice(RELATIONS)
    near, far = rng.randint(12, 16), rng.randint(32, 36)
    a, b = rng.randint(12, 36), rng.randint(12, 36)
    positions = {
        "left of": ((near, a), (far, b)), "right of": ((far, a), (near, b)),
        "above": ((a, near), (b, far)), "below": ((a, far), (b, near)),
    }[relation]
    _draw(canvas, first, *positions[0])
    _draw(canvas, second, *positions[1])
    return Scene(canvas, f"a {first.phrase()} {relation} a {second.phrase()}")


def training_pairs() -> list[tuple[str, str]]:
    return [(c, s) for c in COLOURS for s in SHAPES if (c, s) not in HELD_OUT]


def train_scenes(count: int, seed: int) -> list[Scene]:
    rng = random.Random(seed)
    allowed = training_pairs()
    return [render(rng, allowed) for _ in range(count)]


def held_out_scenes(count: int, seed: int = 99) -> list[Scene]:
    """Held-out scenes: each contains a colour+shape pair never seen in training."""
    rng = random.Random(seed)
    allowed = training_pairs()
    held = sorted(HELD_OUT)
    return [render(rng, allowed, must=held[i % len(held)]) for i in range(count)]


def caption_words() -> list[str]:
    """Every word any caption can use (the output vocabulary, specials excluded)."""
    words = {"a", *COLOURS, *SIZES, *COUNTS.values()}
    words |= {s for s in SHAPES} | {f"{s}s" for s in SHAPES}
    words |= {w for r in RELATIONS for w in r.split()}
    return sorted(words)


def main(argv: list[str] | None = None) -> int:
    """`python -m seqserve.models.data.scenes --out DIR [--count N]`: write held-out
    scenes as PNG files (for trying a captioner) and print their reference captions."""
    import argparse
    from pathlib import Path

    from PIL import Image

    p = argparse.ArgumentParser(prog="python -m seqserve.models.data.scenes")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=3)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for index, scene in enumerate(held_out_scenes(args.count)):
        path = args.out / f"scene{index}.png"
        Image.fromarray(scene.image).save(path)
        print(f"{path}\t{scene.caption}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
