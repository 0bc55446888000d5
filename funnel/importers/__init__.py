"""Reading CRM exports (amoCRM, Bitrix24, the Maven data set, our template, any CSV/xlsx with a
hand-made mapping) into the normalized leads frame of `funnel.ingest.schema`. No database.

The upload flow:

    info = inspect_file(path, filename=name)          # kind, encoding, delimiter, headers, sample
    preset = detect_preset(info.headers)              # "amocrm", …, or "" → map by hand
    mapping = default_mapping(preset, info.headers)   # our field → the file's column
    missing_columns(mapping, info.headers)            # required fields nobody fills
    raw = crm_stages(path, info, mapping)             # [(CRM stage, rows)] for the stage screen
    names = default_stage_map(preset, [s for s, _ in raw], our_stage_names, key_stage_name)
    for chunk in read_leads(path, info, mapping, stage_positions, last_position=…):
        loader.add("leads", chunk.frame)              # chunk.errors: RowError(line, column, …)

A hand-made mapping is saved under `header_signature(info.headers)` to be offered again.
"""

from funnel.importers.cells import check_constants
from funnel.importers.fields import (
    CONSTANT_FIELDS,
    CRM_STAGE,
    CURRENCY,
    FIELD_LABELS,
    MAPPABLE_FIELDS,
    MAX_CONSTANT_CHARS,
    PIPELINE,
    REQUIRED_FIELDS,
    STAGE_GROUP,
    missing_columns,
)
from funnel.importers.file_info import FileInfo, ImportFileError
from funnel.importers.file_limits import FileTooLarge, check_package, check_upload_size
from funnel.importers.files import inspect_file
from funnel.importers.headers import header_signature, unique_headers
from funnel.importers.leads import CHUNK_ROWS, LeadChunk, crm_stages, read_leads
from funnel.importers.presets import (
    PRESETS,
    default_mapping,
    default_stage_map,
    detect_preset,
)

__all__ = [
    "CHUNK_ROWS",
    "CONSTANT_FIELDS",
    "CRM_STAGE",
    "CURRENCY",
    "FIELD_LABELS",
    "MAPPABLE_FIELDS",
    "MAX_CONSTANT_CHARS",
    "PIPELINE",
    "PRESETS",
    "REQUIRED_FIELDS",
    "STAGE_GROUP",
    "FileInfo",
    "FileTooLarge",
    "ImportFileError",
    "LeadChunk",
    "check_constants",
    "check_package",
    "check_upload_size",
    "crm_stages",
    "default_mapping",
    "default_stage_map",
    "detect_preset",
    "header_signature",
    "inspect_file",
    "missing_columns",
    "read_leads",
    "unique_headers",
]
