"""Secrets never reach a log line: the CRMs' webhook secrets and the invitation tokens travel
in URL paths, which access logs and Django's request loggers print.

`SecretsFilter` rewrites a record's message (Django's `django.request` and `django.server`
loggers, see LOGGING in settings); `GunicornLogger` puts it on gunicorn's access and error
logs (`logger_class` in gunicorn.conf.py)."""

import logging
import re

from gunicorn.glogging import Logger

MASK = "***"

# What follows each of these in a URL is a secret, up to the next "/", "?", space or quote.
SECRET_PATHS = re.compile(
    r"(?P<prefix>"
    r"/integrations/(?:amocrm|bitrix24)/"  # our CRM webhooks: /api/v1/integrations/<kind>/<secret>/
    r"|/invite/"  # an invitation link: /invite/<token>/
    r"|/rest/\d+/"  # a Bitrix24 inbound webhook: https://<portal>/rest/<user>/<code>/
    r")[^/?#\s\"']+"
)


def mask_secrets(text: str) -> str:
    """`/invite/abc123/` → `/invite/***/`, and the same for the webhook secrets."""
    return SECRET_PATHS.sub(lambda match: match["prefix"] + MASK, text)


class SecretsFilter(logging.Filter):
    """Masks the secrets of a record's final message (its format and arguments merged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format: leave it to the handler to report
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class GunicornLogger(Logger):
    """gunicorn's logger with the secrets masked in its access log (the request line, the
    path, the referer: every atom) and its error log."""

    def setup(self, cfg: object) -> None:
        super().setup(cfg)  # runs again on a reload (HUP): one filter per log is enough
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, SecretsFilter) for f in log.filters):
                log.addFilter(SecretsFilter())


class ClientErrorFilter(logging.Filter):
    """A 4xx (a 403 for a page of another role, a 404) is the client's doing: one warning line
    (`Forbidden (Permission denied): /plans/3/`), without the traceback Django attaches to the
    PermissionDenied it caught. A 5xx keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.levelno < logging.ERROR and (status is None or status < 500):
            record.exc_info = None
            record.exc_text = None
        return True
