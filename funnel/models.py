"""Funnels and their ordered stages; the actuals that flow through them (leads, stage events,
payments, spend, calls, tasks), and how they arrive (imports, webhooks, integrations)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Funnel(models.Model):
    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="funnels"
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("funnel")
        verbose_name_plural = _("funnels")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="funnel_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A funnel stage; `conversion` is the planned share reaching the next stage."""

    funnel = models.ForeignKey(Funnel, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"))
    conversion = models.DecimalField(
        _("conversion to the next stage"), max_digits=7, decimal_places=6, null=True, blank=True
    )
    is_key_stage = models.BooleanField(_("key stage"), default=False)
    is_target_lead = models.BooleanField(_("target-lead stage"), default=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["funnel_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["funnel", "position"], name="stage_position_unique"),
            models.UniqueConstraint(fields=["funnel", "name"], name="stage_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


# --- actuals: what really happened, from the CRM ---------------------------------------------


class Source(models.TextChoices):
    AMOCRM = "amocrm", "amoCRM"
    BITRIX24 = "bitrix24", "Bitrix24"
    MAVEN = "maven", "Maven CRM"
    FILE = "file", _("File")
    API = "api", "API"


class Lead(models.Model):
    """A lead (deal) from a CRM, unique per organization, source and external id."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="leads"
    )
    funnel = models.ForeignKey(Funnel, on_delete=models.PROTECT, related_name="leads")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    external_id = models.CharField(_("external id"), max_length=100)
    name = models.CharField(_("name"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    channel = models.CharField(_("channel"), max_length=200, blank=True)
    is_target = models.BooleanField(_("target lead"), null=True)
    non_target_reason = models.CharField(_("non-target reason"), max_length=300, blank=True)
    responsible = models.ForeignKey(
        "salesplan.Membership",
        verbose_name=_("responsible"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    # As the CRM wrote it, kept when no member matches (listed, never dropped).
    responsible_name = models.CharField(_("responsible (CRM)"), max_length=200, blank=True)
    company = models.CharField(_("company"), max_length=300, blank=True)
    current_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    lost_at = models.DateTimeField(_("lost at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="lead_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="lead_org_created"),
            models.Index(fields=["organization", "responsible"], name="lead_org_responsible"),
            # Plan vs fact's refusals: the leads lost in a period (a few of all the leads).
            models.Index(
                fields=["organization", "lost_at"],
                condition=models.Q(lost_at__isnull=False),
                name="lead_org_lost",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class StageEvent(models.Model):
    """Lead X reached stage Y at time T; once per lead and stage (DOMAIN section 3)."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_events")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="events")
    reached_at = models.DateTimeField(_("reached at"))
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stage event")
        verbose_name_plural = _("stage events")
        constraints = [models.UniqueConstraint(fields=["lead", "stage"], name="stage_event_unique")]
        indexes = [
            models.Index(fields=["organization", "stage", "reached_at"], name="event_org_stage_at")
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.stage_id} @ {self.reached_at:%Y-%m-%d}"


class Payment(models.Model):
    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="payments"
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="payments")
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    gross_margin = models.DecimalField(
        _("gross margin"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    product = models.ForeignKey(
        "salesplan.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    product_name = models.CharField(_("product"), max_length=200, blank=True)
    paid_at = models.DateTimeField(_("paid at"))
    is_new_client = models.BooleanField(_("new client"), null=True)
    # For a deal the head of sales closed: the salesperson they chose (DOMAIN idea 5).
    credited_member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="payment_external_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "paid_at"], name="payment_org_paid")]

    def __str__(self) -> str:
        return f"{self.amount} @ {self.paid_at:%Y-%m-%d}"


class Spend(models.Model):
    """Marketing spend of a channel on a day (the organization's local day)."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="spend"
    )
    channel = models.CharField(_("channel"), max_length=200)
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("marketing spend")
        verbose_name_plural = _("marketing spend")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "date"], name="spend_channel_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.date}: {self.amount}"


class Call(models.Model):
    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="calls"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(max_length=100)
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    at = models.DateTimeField(_("at"))
    connected = models.BooleanField(_("connected"))
    # The CRM's comment on the call. NULL: the source does not export comments (nothing to
    # judge); "": it does, and this call has none (DOMAIN idea 8: every communication in the CRM).
    comment = models.TextField(_("comment"), null=True, blank=True)  # noqa: DJ001 (NULL: not exported)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="call_external_unique"
            )
        ]

    def __str__(self) -> str:
        return f"call {self.external_id}"


class Task(models.Model):
    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="tasks"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(max_length=100)
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    # The task's description as the CRM exports it: the goal of the next contact. NULL: the
    # source does not export it (not judged); "": exported, and empty (no goal stated).
    text = models.TextField(_("text"), null=True, blank=True)  # noqa: DJ001 (NULL: not exported)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="task_external_unique"
            )
        ]
        indexes = [
            # CRM discipline: a lead's open tasks (is there a next one?), the open tasks only.
            models.Index(
                fields=["lead"], condition=models.Q(done_at__isnull=True), name="task_open_lead"
            )
        ]

    def __str__(self) -> str:
        return f"task {self.external_id}"


class StageMapping(models.Model):
    """A CRM's stage (name or id, lower-cased) → our stage, or the deal's outcome."""

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        WON = "won", _("won")
        LOST = "lost", _("lost")

    funnel = models.ForeignKey(Funnel, on_delete=models.CASCADE, related_name="stage_mappings")
    source = models.CharField(max_length=20, choices=Source.choices)
    external = models.CharField(_("CRM stage"), max_length=200)
    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=4, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["funnel", "source", "external"], name="stage_mapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external}"


class Integration(models.Model):
    """A CRM posting webhooks to /api/v1/integrations/<kind>/<secret>/. A Bitrix24 one keeps
    the portal's inbound webhook URL (its REST key) encrypted: funnel.services.integrations
    seals and opens it, nothing returns it once stored."""

    class Kind(models.TextChoices):
        AMOCRM = "amocrm", "amoCRM"
        BITRIX24 = "bitrix24", "Bitrix24"

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="integrations"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    funnel = models.ForeignKey(Funnel, on_delete=models.PROTECT, related_name="integrations")
    secret = models.CharField(max_length=64, unique=True)
    application_token = models.CharField(max_length=200, blank=True)
    # Bitrix24's inbound webhook URL (https://<portal>/rest/<user>/<code>/), Fernet-encrypted;
    # the portal's domain in clear, to show it and to match the webhooks' auth[domain].
    rest_url_encrypted = models.TextField(blank=True, editable=False)
    portal_domain = models.CharField(_("portal"), max_length=253, blank=True)
    # CRM stage name or status id → our stage name, or "won" / "lost".
    stage_map = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} → {self.funnel}"

    @property
    def has_rest_url(self) -> bool:
        return bool(self.rest_url_encrypted)


class RawRecord(models.Model):
    """A webhook body or an API batch as received, kept for audit and reprocessing.

    A webhook stays "received" while it waits: for its first run, or for another try after a
    transient failure (`attempts`, `next_attempt_at`, the last reason in `error`). It ends
    processed, or failed with the reason until someone retries it."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("webhook")
        EVENTS = "events", _("events batch")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed")

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's look-up: the few records still waiting, oldest first.
            models.Index(
                fields=["received_at"],
                condition=models.Q(status="received"),
                name="rawrecord_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class ImportJob(models.Model):
    """An uploaded CRM export: preview → confirm → a Celery job with progress → result."""

    class Status(models.TextChoices):
        # A big upload being read by a job (funnel.services.uploads); then a preview.
        INSPECTING = "inspecting", _("reading the file")
        PREVIEW = "preview", _("preview")
        CHECKING = "checking", _("checking")
        # Confirmed, not yet taken by the queue (the broker did not answer): the sweep
        # (funnel.services.jobs.jobs_sweep) queues it once the broker is back.
        WAITING = "waiting", _("waiting for the queue")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="imports"
    )
    funnel = models.ForeignKey(Funnel, on_delete=models.PROTECT, related_name="imports")
    created_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=300)
    preset = models.CharField(max_length=20)
    source = models.CharField(max_length=20, choices=Source.choices)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    # What the upload's inspection found (funnel.importers.FileInfo.to_json) and the CRM's
    # stages with their row counts: the preview and the job read these, not the file.
    file_info = models.JSONField(default=dict)
    crm_stages = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # our field → the file's column
    stage_map = models.JSONField(default=dict)  # the CRM's stage → our stage name / won / lost
    # Our field → one value for every row of the file, instead of a column ("stage: Лид").
    constants = models.JSONField(default=dict)
    # A currency's rate to the organization's (e.g. {"USD": "92.50"}): rows in that currency
    # are converted; rows in a currency with no rate are refused, never summed as they are.
    rates = models.JSONField(default=dict)
    # What the check found the file would change (funnel.services.imports.import_check), and
    # the settings it was checked with: new / changed / unchanged rows per table, a sample.
    changes = models.JSONField(default=dict)
    valid_rows_only = models.BooleanField(default=False)
    # Empty cells of the mapped columns clear the stored values (by default they keep them).
    clear_empty = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # the first errors; the full report is a file
    error_report = models.FileField(upload_to="imports/reports/%Y/%m/", blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life: set when the job is queued and on every chunk it reads; a running
    # job silent for JOB_STALE_AFTER_S lost its worker and the sweep starts it again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Runs started (imports and checks alike); after JOB_MAX_ATTEMPTS the sweep gives up.
    attempts = models.PositiveSmallIntegerField(default=0)
    # The language of who confirmed it: a restarted job writes its messages in it too.
    language = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep's look-up: the few jobs between confirmation and their end.
            models.Index(
                fields=["heartbeat_at"],
                condition=models.Q(status__in=["checking", "waiting", "queued", "running"]),
                name="importjob_unfinished",
            )
        ]

    def __str__(self) -> str:
        return self.original_name


class SavedMapping(models.Model):
    """A manual column mapping, found again for a file with the same headers."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    header_signature = models.CharField(max_length=64)
    mapping = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "header_signature"], name="saved_mapping_unique"
            )
        ]

    def __str__(self) -> str:
        return self.header_signature


class Identity(models.Model):
    """How a CRM names a person or a channel, and who or what that is here: one identity per
    person and channel whatever path a lead came by. A webhook names its owner `b24:7` and its
    channel `WEB`, a file "Анна Смирнова" and «Веб-сайт»; these rows join them. Learned from
    the first file or webhook that carries both (learned=True), or set on the identities page;
    applied by the loader on every path, and to the leads already stored when one is made."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        CHANNEL = "channel", _("channel")

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # A channel code is a CRM's own ("WEB" in Bitrix24); a person's key is unambiguous by
    # itself ("b24:7", "amo:15", a name), so its source is "".
    source = models.CharField(max_length=20, choices=Source.choices, blank=True)
    key = models.CharField(max_length=300)  # as written, spacing and case folded
    written = models.CharField(max_length=300)  # as the CRM wrote it
    # A person: the name the CRM gives them (learned). A channel: its name here.
    name = models.CharField(max_length=300, blank=True)
    membership = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    learned = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "source", "key"], name="identity_unique"
            )
        ]
        ordering = ["kind", "written"]

    def __str__(self) -> str:
        return f"{self.written} → {self.membership or self.name}"
