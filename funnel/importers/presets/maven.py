"""The Maven Analytics "CRM Sales Opportunities" data set (`data/maven-crm/sales_pipeline.csv`).

Headers: opportunity_id, sales_agent, product, account, deal_stage, engage_date, close_date,
close_value; ISO dates, plain numbers. Stages: Prospecting → our first stage, Engaging → our
key stage, Won, Lost.

Quirks and the rules for them:
- Prospects have no engage_date (and no close_date): their created_at is the close_date if
  any, else the day of the export the caller passes as `fallback_created_at`. (This is the
  general rule of `read_leads` for an empty created date; Maven is where it is needed.)
- The pipeline writes `GTXPro` where the product list says `GTX Pro`: product names are
  normalized with `product_aliases`.
- Open deals often have no account (company ""), which is not an error.
"""

from funnel.importers.presets.base import Preset

PRESET = Preset(
    name="maven",
    title="Maven CRM",
    markers=(frozenset({"opportunity_id", "deal_stage", "sales_agent"}),),
    columns={
        "external_id": ("opportunity_id",),
        "responsible": ("sales_agent",),
        "product": ("product",),
        "company": ("account",),
        "crm_stage": ("deal_stage",),
        "created_at": ("engage_date",),
        "paid_at": ("close_date",),
        "lost_at": ("close_date",),
        "amount": ("close_value",),
    },
    won=frozenset({"won"}),
    lost=frozenset({"lost"}),
    stage_roles={"prospecting": "first", "engaging": "key"},
    product_aliases={"GTXPro": "GTX Pro"},
)
