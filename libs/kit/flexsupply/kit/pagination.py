"""Bounded pagination for list endpoints: `limit: Limit = DEFAULT_LIMIT, offset: Offset = 0`.

Both bounds are in the OpenAPI document and checked before the handler runs, so an out-of-range number is a 400
naming the parameter, never an integer the database cannot hold (a 500).
"""

from typing import Annotated

from litestar.params import QueryParameter

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# Far beyond any page a person reads; deeper offsets make the database skip rows for nothing: filter instead.
MAX_OFFSET = 1_000_000

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="How many items at most.")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="How many items to skip first.")]
