"""Keep garbage-collector pauses out of the request path.

A full (generation 2) collection walks every tracked object in the process:
after the models are loaded that is hundreds of thousands of long-lived
objects (graph metadata, protobuf descriptors, config), and each walk stalls
every request for tens of milliseconds. Measured with 1,000 streaming
sessions at 10 steps/s each (engine in process): p99 79-110 ms with the
default collector, 29 ms once the objects alive after loading are frozen.
"""

from __future__ import annotations

import gc


def freeze_loaded_objects() -> None:
    """Collect once, then move every surviving object to the permanent generation,
    which later collections skip. Called after each model load; unfreezing first
    lets the collection reclaim cycles left by models unloaded since."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
