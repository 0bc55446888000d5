"""Pages of the core domain: signing up, people and invitations, the organization switch, the
health check, and the planning inputs every plan shares (products, the working calendar).
Views only route: forms read, services check and write, salesplan.access authorizes."""

from datetime import timedelta
from typing import Any

import redis
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    ValidationError,
)
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from salesplan import accounts, queue, selectors, services
from salesplan.access import (
    SESSION_ORGANIZATION_KEY,
    access_object,
    may_edit_settings,
    may_manage_members,
    memberships_of,
    require_membership,
)
from salesplan.api.fields import too_big_for_an_id
from salesplan.fields import month_from
from salesplan.forms import (
    CalendarDayForm,
    EmailAuthenticationForm,
    InvitationAcceptForm,
    InvitationForm,
    ProductForm,
    SignupConfirmForm,
    SignupForm,
    TeamForm,
    add_service_errors,
)
from salesplan.models import CalendarDay, Invitation
from salesplan.planning import RUSSIAN_CALENDAR
from salesplan.planning.calendar import month_end
from salesplan.tables import Column, Table, export_response

ONE_DAY = timedelta(days=1)
NEW_TOKEN_SESSION_KEY = "new_api_token"


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    """Ask for the organization and the owner's e-mail, then send the link that finishes the
    sign-up. Every address gets the same answer (an existing account gets a note to sign in
    instead), so the page never tells whether an e-mail has an account."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        confirm_url = request.build_absolute_uri(
            reverse("signup_confirm", kwargs={"token": "TOKEN"})
        ).replace("TOKEN", "{token}")
        accounts.signup_request(
            email=data["email"],
            organization_name=data["organization_name"],
            first_name=data["first_name"],
            last_name=data.get("last_name", ""),
            currency=data["currency"],
            confirm_url_template=confirm_url,
            login_url=request.build_absolute_uri(reverse("login")),
            reset_url=request.build_absolute_uri(reverse("password_reset")),
        )
        return render(request, "registration/signup_sent.html", {"email": data["email"]})
    return render(request, "registration/signup.html", {"form": form})


@login_not_required
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the sign-up e-mail: choose a password, and the organization is made."""
    details = accounts.signup_details(token)
    if details is None:
        return render(request, "registration/signup_closed.html", status=410)
    form = SignupConfirmForm(request.POST or None, details=details)
    if request.method == "POST" and form.is_valid():
        try:
            organization = accounts.signup_confirm(
                details=details, password=form.cleaned_data["password1"]
            )
        except ValueError:
            return render(request, "registration/signup_closed.html", status=410)
        owner = organization.memberships.get()
        login(request, owner.user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_ORGANIZATION_KEY] = organization.pk
        messages.success(request, _("Welcome to Salesplan, %(name)s!") % {"name": organization})
        return redirect("home")
    return render(request, "registration/signup_confirm.html", {"form": form, **details})


def account(request: HttpRequest) -> HttpResponse:
    """The person's own page: their name and e-mail, the password, their API token."""
    token = accounts.token_of(request.user)
    context = {
        "token": token,
        "token_expires_at": accounts.token_expires_at(token) if token else None,
        "token_expired": accounts.token_expired(token) if token else False,
        "new_key": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
    }
    return render(request, "registration/account.html", context)


@require_POST
def account_token_rotate(request: HttpRequest) -> HttpResponse:
    token = accounts.token_rotate(user=request.user)
    # Shown once, on the next page: a key in a redirect's URL would stay in the history.
    request.session[NEW_TOKEN_SESSION_KEY] = token.key
    messages.success(request, _("A new API token is issued; the old one no longer works."))
    return redirect("account")


@require_POST
def account_token_revoke(request: HttpRequest) -> HttpResponse:
    accounts.token_revoke(user=request.user)
    messages.success(request, _("Your API token is revoked."))
    return redirect("account")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, and a new password lifts a sign-in lockout of the account: the lockout
    message sends a locked-out person here."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): 429 with
    Retry-After, and the sign-in page saying why and for how long."""
    message = accounts.lockout_message()
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        form = EmailAuthenticationForm(request)
        response = render(
            request, "registration/login.html", {"form": form, "locked_out": message}, status=429
        )
    response["Retry-After"] = str(accounts.lockout_seconds())
    return response


def _member_tables(people: list[Any], teams: list[Any]) -> tuple[Table, Table]:
    """The people page's two tables, as shown and as XLSX / CSV (salesplan.tables)."""
    people_table = Table(
        name="people",
        title=_("People"),
        columns=[
            Column("name", _("Name")),
            Column("email", _("E-mail")),
            Column("role", _("Role")),
            Column("kind", _("Hunter or farmer")),
            Column("team", _("Team")),
        ],
        rows=[
            {
                "name": member.display_name,
                "email": member.user.email,
                "role": member.get_role_display(),
                "kind": member.get_salesperson_kind_display() if member.salesperson_kind else "",
                "team": member.team.name if member.team else "",
            }
            for member in people
        ],
    )
    teams_table = Table(
        name="teams",
        title=_("Teams"),
        columns=[
            Column("team", _("Team")),
            Column("head", _("Head of sales")),
            Column("members", _("Members"), "int"),
        ],
        rows=[
            {
                "team": team.name,
                "head": team.head.display_name if team.head else "",
                "members": team.member_count,
            }
            for team in teams
        ],
    )
    return people_table, teams_table


def members(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    organization = membership.organization
    can_manage = may_manage_members(membership)
    invite_form = InvitationForm(organization=organization, prefix="invite")
    team_form = TeamForm(organization=organization, prefix="team")
    if request.method == "POST":
        if not can_manage:
            return render(request, "403.html", status=403)
        if "invite-email" in request.POST:
            invite_form = InvitationForm(request.POST, organization=organization, prefix="invite")
            if invite_form.is_valid():
                data = invite_form.cleaned_data
                accept_url = request.build_absolute_uri(
                    reverse("invitation_accept", kwargs={"token": "TOKEN"})
                ).replace("TOKEN", "{token}")
                invitation = services.invitation_create(
                    organization=organization,
                    invited_by=membership,
                    email=data["email"],
                    role=data["role"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    salesperson_kind=data["salesperson_kind"],
                    team=data["team"],
                    accept_url_template=accept_url,
                )
                messages.success(
                    request,
                    _("Invitation sent to %(email)s. Link: %(link)s")
                    % {
                        "email": invitation.email,
                        "link": accept_url.format(token=invitation.token),
                    },
                )
                return redirect("members")
        elif "team-name" in request.POST:
            team_form = TeamForm(request.POST, organization=organization, prefix="team")
            if team_form.is_valid():
                services.team_create(
                    organization=organization,
                    name=team_form.cleaned_data["name"],
                    head=team_form.cleaned_data["head"],
                )
                messages.success(request, _("Team created."))
                return redirect("members")
    people = list(selectors.member_list(organization=organization))
    teams = list(selectors.team_list(organization=organization))
    people_table, teams_table = _member_tables(people, teams)
    if response := export_response(request, people_table, teams_table):
        return response
    context = {
        "members": people,
        "teams": teams,
        "people_table": people_table,
        "teams_table": teams_table,
        "invitations": selectors.open_invitation_list(organization=organization),
        "can_manage": can_manage,
        "invite_form": invite_form,
        "team_form": team_form,
    }
    return render(request, "members.html", context)


@login_not_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("organization"), token=token)
    if not invitation.is_open:
        return render(request, "registration/invitation_closed.html", status=410)
    existing_user = services.User.objects.filter(username=invitation.email).first()
    if existing_user is not None:
        # Someone with an account accepts by signing in as that account.
        if request.user.is_authenticated and request.user.pk == existing_user.pk:
            if request.method == "POST":
                services.invitation_accept(invitation=invitation, user=existing_user)
                request.session[SESSION_ORGANIZATION_KEY] = invitation.organization_id
                messages.success(
                    request, _("You joined %(org)s.") % {"org": invitation.organization}
                )
                return redirect("home")
            return render(
                request, "registration/invitation_accept.html", {"invitation": invitation}
            )
        return redirect(f"{reverse('login')}?next={request.path}")
    form = InvitationAcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        membership = services.invitation_accept(
            invitation=invitation,
            user=None,
            password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
        )
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_ORGANIZATION_KEY] = invitation.organization_id
        messages.success(request, _("You joined %(org)s.") % {"org": invitation.organization})
        return redirect("home")
    return render(
        request, "registration/invitation_accept.html", {"invitation": invitation, "form": form}
    )


@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organization", "")
    if not wanted.isdigit() or too_big_for_an_id(wanted):
        raise BadRequest(_("Choose one of your organizations from the list."))
    membership = memberships_of(request.user).filter(organization_id=wanted).first()
    if membership is not None:
        request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    return redirect("home")


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every backing service answers; 503 naming what is down. `worker`: the
    Celery worker's last heartbeat (reported, not a reason for 503: the web still serves)."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means "down"; the message says which
        checks["database"] = f"down: {error.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"down: {error.__class__.__name__}"
    else:
        checks["redis"] = "not configured (cache in memory)"
    checks["broker"] = queue.broker_state()
    down = [name for name, state in checks.items() if state.startswith("down")]
    return JsonResponse(
        {
            "status": "down" if down else "ok",
            "down": down,
            "checks": checks,
            "worker": queue.worker_state(),
        },
        status=503 if down else 200,
    )


# --- planning inputs: products and the working calendar -------------------------------------------


def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("product_list")


def product_list(request: HttpRequest) -> HttpResponse:
    member = require_membership(request)
    organization = member.organization
    form = ProductForm()
    if request.method == "POST":
        require_membership(request, may_edit_settings)
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                services.product_create(organization=organization, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Product added."))
                return redirect("product_list")
    context = {
        "products": selectors.product_list(organization=organization),
        "form": form,
        "can_edit": may_edit_settings(member),
    }
    return render(request, "settings/products.html", context)


def calendar(request: HttpRequest) -> HttpResponse:
    member = require_membership(request)
    organization = member.organization
    form = CalendarDayForm()
    if request.method == "POST":
        require_membership(request, may_edit_settings)
        form = CalendarDayForm(request.POST)
        if form.is_valid():
            try:
                services.calendar_day_add(organization=organization, **form.service_kwargs())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The calendar is updated."))
                return redirect(f"{request.path}?month={form.cleaned_data['date']:%Y-%m}")
    try:
        first = month_from(request.GET.get("month"), timezone.localdate())
    except ValidationError as error:
        raise BadRequest(error.messages[0]) from error
    last = month_end(first)
    context = {
        "days": selectors.calendar_day_list(organization=organization),
        "form": form,
        "can_edit": may_edit_settings(member),
        "month": first,
        "previous_month": month_from(None, first - ONE_DAY),
        "next_month": last + ONE_DAY,
        "working_days": len(selectors.calendar_for(organization).working_days(first, last)),
        "production_working_days": len(RUSSIAN_CALENDAR.working_days(first, last)),
    }
    return render(request, "settings/calendar.html", context)


@require_POST
def calendar_day_delete(request: HttpRequest, pk: int) -> HttpResponse:
    member = require_membership(request)
    day = access_object(member, CalendarDay, pk, edit=True)
    month = day.date
    services.calendar_day_delete(calendar_day=day)
    messages.success(request, _("The day follows the production calendar again."))
    return redirect(f"{reverse('calendar')}?month={month:%Y-%m}")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 page (handler400). A BadRequest a view raises carries a message written for the
    user; a body too large or with too many fields gets its own; anything else a general one."""
    if isinstance(exception, RequestDataTooBig):
        message = _("The form is too large to send.")
    elif isinstance(exception, TooManyFieldsSent):
        message = _("The form has too many fields to send.")
    elif type(exception) is BadRequest and exception.args:
        message = str(exception)
    else:
        message = _("The request could not be understood.")
    return render(request, "400.html", {"message": message}, status=400)
