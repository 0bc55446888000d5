import pytest

from tests.conftest import clear_own_cache


@pytest.fixture(autouse=True)
def _no_queued_marks():
    """The recompute's debounce marks (salesplan.queue.enqueue_once) live in the cache, which
    outlives each test's database (where an organization's id comes round again)."""
    clear_own_cache()
    yield
    clear_own_cache()
