"""The descriptor pool of seqserve's `inference` (KServe v2 / Triton) modules.

tritonclient registers the same full names (`inference.ModelInferRequest`, ...)
in protobuf's default pool from differently named files; two registrations of
one symbol in one pool fail at import. Keeping ours in a pool of their own lets
one process load both (the test suite, a script embedding the server next to
a Triton client). Reflection serves this pool merged with the default one
(server/api/reflection.py).
"""

from __future__ import annotations

from google.protobuf import descriptor_pool

POOL = descriptor_pool.DescriptorPool()
