"""Named limits on what people and machines send, in one place (each says why it is that size).

A limit that a form, a serializer or a service enforces is imported from here, so the page and
the API refuse the same thing with the same words."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext

# A plan's sizes are the engine's (pure: the engine imports no Django), listed here with the
# rest: the serializers refuse them before reading the items, the engine before any work.
from salesplan.planning.limits import COUNT_TEMPLATE
from salesplan.planning.limits import MAX_HISTORY_MONTHS as MAX_HISTORY_MONTHS
from salesplan.planning.limits import MAX_PERIOD_MONTHS as MAX_PERIOD_MONTHS
from salesplan.planning.limits import MAX_PRODUCTS as MAX_PRODUCTS
from salesplan.planning.limits import MAX_SEASONALITY_KEYS as MAX_SEASONALITY_KEYS
from salesplan.planning.limits import MAX_STAGES as MAX_STAGES
from salesplan.planning.limits import MAX_TEAM as MAX_TEAM

# Ids are bigint columns: a larger number sent as an id is "not found", never an overflow.
MAX_ID = 2**63 - 1
# Versions and counts are integer columns (4 bytes on PostgreSQL).
MAX_INT = 2**31 - 1

# --- bodies and values people and machines send (issue 10: no 500 on any input) -------------

# JSON nested deeper than this is refused before it is read: no request of ours nests more
# than 5 levels, and Python's own parser overflows its stack at about 1 000.
MAX_JSON_DEPTH = 32
# A request body (JSON or a form, files apart): a batch of MAX_ITEMS events is ~3 MB; CRM
# webhooks are a few kilobytes. Also Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
# Dates people and machines send (plan periods, seasonality months, calendar days, filters):
# any year a plan or a CRM export can mean, and far enough inside Python's years 1..9999 that
# "the month before" or "the week after" never leaves them.
MIN_YEAR = 1900
MAX_YEAR = 2100
# A month's seasonality weight: weights are relative (1.2 against 0.9); this keeps the sums of
# the split far inside the precision of decimal arithmetic.
MAX_SEASONALITY_WEIGHT = 1000


# --- sizes and counts: no request may tie up a worker (issue 10) ------------------------------
#
# Plans: MAX_PERIOD_MONTHS (24), MAX_STAGES (50 a funnel), MAX_TEAM (500 people a plan),
# MAX_PRODUCTS (200), MAX_SEASONALITY_KEYS (24), MAX_HISTORY_MONTHS (60), imported above.

MB = 1024 * 1024

# Import files. An operator may raise these three (settings IMPORT_MAX_UPLOAD_MB,
# IMPORT_MAX_UNPACKED_MB, IMPORT_MAX_ROWS, from the environment); read at each upload.
# - 50 MB: a year of a 100-person amoCRM export (~200,000 deals) as CSV; its inspection takes
#   about a second, its import a few minutes in the background.
# - 500 MB unpacked: a 50 MB workbook's XML (sheet XML deflates about tenfold); calamine holds
#   the decoded sheet in memory.
# - 1,000,000 rows: the benchmark's size (bench/import_1m.py, ~3 minutes, peak 742 MB).


def import_max_upload_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * MB


def import_max_unpacked_bytes() -> int:
    return settings.IMPORT_MAX_UNPACKED_MB * MB


def import_max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


# Columns of an import file: exports with every custom field have a few hundred; the preview
# lists each, and a workbook's decoded sheet is as wide as its widest row.
MAX_IMPORT_COLUMNS = 1_000
# Characters in a cell of an import file: the longest value we keep is 300 characters (a
# deal's name, a company); a header or a sample cell is stored with the job and shown.
MAX_CELL_CHARS = 10_000
# How many times its packed size a workbook's part may unpack to: sheet XML deflates 5 to 20
# times; a zip bomb (a shared string repeated for megabytes) a thousand times.
MAX_XLSX_RATIO = 100
# The CRM stages a confirm form or an API call may map: more than any CRM has in a funnel
# (amoCRM's pipelines × their stages included).
MAX_CRM_STAGES = 1_000

# The head of sales' weekly review (issue 13): a note per function is a line or two of what
# was done ("разобрали звонки Анны"); the history shows up to a year of weeks.
MAX_REVIEW_NOTE_CHARS = 1_000
MAX_REVIEW_HISTORY_WEEKS = 53

# The client base (issue 13, DOMAIN idea 7). Cooling-off: from a day to ten years (a longer
# pause is a permanent refusal, which has its own list). Permanent lost reasons: a CRM's list
# of lost reasons has a few dozen; each as long as a lead's lost reason (300 characters).
MIN_COOLING_DAYS = 1
MAX_COOLING_DAYS = 3650
MAX_PERMANENT_REASONS = 50
MAX_LOST_REASON_CHARS = 300
# A search of the "do not touch" list: as long as a company's name may be.
MAX_COMPANY_SEARCH_CHARS = 300


# Role KPIs and bonus (salesplan.kpis): a scheme's KPIs (more than 4 is already warned
# against; 10 leaves room to try), the payout curve's points (a curve of thresholds needs a
# handful), a fulfilment or payout on the curve as a share (100 = 10 000 %), a base bonus and a
# KPI value typed by hand (far above any month's figure; inside their decimal columns).
MAX_KPIS_PER_SCHEME = 10
MAX_CURVE_POINTS = 10
MAX_CURVE_VALUE = Decimal(100)
MAX_BASE_BONUS = Decimal(10**12)
MAX_KPI_VALUE = Decimal(10**11)


class TooLarge(ValidationError):
    """A ValidationError for something larger than a limit allows: pages and the API answer
    413 (Content Too Large) with its messages."""


def count_message(count: int, limit: int) -> str:
    """The words of every count limit, in the user's language: "There are 2001; the limit
    is 50." (the engine's message, translated the same way)."""
    return gettext(COUNT_TEMPLATE) % {"count": count, "limit": limit}


def size_message(size: int, limit: int) -> str:
    """The words of a file size limit: "The file is 52 MB; the limit is 50 MB"."""
    return gettext("The file is %(size)s MB; the limit is %(limit)s MB.") % {
        "size": megabytes(size),
        "limit": megabytes(limit),
    }


def megabytes(size: int) -> str:
    """A size in megabytes the user's way: one decimal below ten unless whole ("1.1", "1",
    "52")."""
    value = round(size / MB, 1) if size < 10 * MB else round(size / MB)
    return number_format(value, decimal_pos=0 if value == int(value) else 1)
