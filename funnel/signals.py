"""What the funnel app announces to the layers above it (it never calls them). The plans
listen in `salesplan/plans/receivers.py`."""

from django.dispatch import Signal

# A funnel's stages were replaced (renamed, added, removed); kwargs: funnel.
stages_changed = Signal()
# New actuals were committed for a funnel (an import, an events batch, a webhook);
# kwargs: organization_id, funnel_id, and since: the earliest moment the load changed
# (LoadResult.earliest; None or absent: unknown, anything may have changed).
actuals_loaded = Signal()
