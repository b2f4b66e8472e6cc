"""Small typed results the engine hands back to api/.

Hypothesis, SentenceResult and PartialUpdate are the domain API's value
types; they are defined once, in the client package, so that client and
server exchange the very same classes.
"""

from __future__ import annotations

from seqserve.client.types import Hypothesis, PartialUpdate, SentenceResult

__all__ = ["Hypothesis", "PartialUpdate", "SentenceResult"]
