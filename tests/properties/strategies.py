"""Shared hypothesis strategies for the parser properties: hostile text of bounded size.

Each parser gets three kinds of input: any text (every Unicode category, control
characters, lone surrogates), text built from the parser's own vocabulary (tags,
mechanisms, separators) so that examples get deep into the grammar, and hand-picked
nasty values. Sizes are bounded so time and memory stay bounded on shared machines.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# deadline=None: the machines are shared and noisy; the budget is the example count.
# PROPERTY_EXAMPLES raises it for a longer hunt (e.g. 5000 before a release).
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "200"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

any_text = st.text(max_size=400)
ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=400)


def built_from(vocabulary: list[str], separators: list[str], max_pieces: int = 30) -> st.SearchStrategy[str]:
    """Text made of the grammar's own words, joined by its separators and noise."""
    piece = st.one_of(st.sampled_from(vocabulary), st.text(max_size=12))
    sep = st.sampled_from(separators)
    return st.lists(st.tuples(piece, sep), max_size=max_pieces).map(
        lambda pairs: "".join(p + s for p, s in pairs)
    )


def budget(examples: int) -> settings:
    """``PROPERTY`` with fewer examples for a costly property (scaled by PROPERTY_EXAMPLES)."""
    return settings(PROPERTY, max_examples=max(10, examples * EXAMPLES // 200))
