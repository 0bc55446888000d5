"""Named limits on what people and machines send, in one place (each says why it is that size).

A limit that a form, a serializer or a service enforces is imported from here, so the page and
the API refuse the same thing with the same words."""

# Ids are bigint columns: a larger number sent as an id is "not found", never an overflow.
MAX_ID = 2**63 - 1
# Versions and counts are integer columns (4 bytes on PostgreSQL).
MAX_INT = 2**31 - 1
