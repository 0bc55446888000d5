"""Pages of funnels, file imports and CRM integrations."""

from django.urls import path

from funnel.views import funnels, identities, imports, integrations

urlpatterns = [
    path("funnels/", funnels.funnel_list, name="funnel_list"),
    path("funnels/new/", funnels.funnel_create, name="funnel_create"),
    path("funnels/<int:pk>/edit/", funnels.funnel_edit, name="funnel_edit"),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/run-again/", imports.import_run_again, name="import_run_again"),
    path("imports/<int:pk>/errors.csv", imports.import_errors, name="import_errors"),
    path("settings/identities/", identities.identity_list, name="identity_list"),
    path("settings/identities/person/", identities.person_link, name="identity_person"),
    path("settings/identities/channel/", identities.channel_rename, name="identity_channel"),
    path("settings/integrations/", integrations.integration_list, name="integration_list"),
    path(
        "settings/integrations/<int:pk>/rest-url/",
        integrations.integration_rest_url,
        name="integration_rest_url",
    ),
    path(
        "settings/integrations/records/<int:pk>/retry/",
        integrations.record_retry,
        name="integration_record_retry",
    ),
]
