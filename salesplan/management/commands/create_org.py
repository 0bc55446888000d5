from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from salesplan.services import organization_create


class Command(BaseCommand):
    help = "Create an organization with its owner (the same as the sign-up page)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", required=True)
        parser.add_argument("--owner-name", default="")
        parser.add_argument("--currency", default="RUB")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            validate_email(options["owner_email"])
            password_validation.validate_password(options["owner_password"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        first, _, last = options["owner_name"].partition(" ")
        organization = organization_create(
            name=options["name"],
            owner_email=options["owner_email"],
            owner_password=options["owner_password"],
            owner_first_name=first,
            owner_last_name=last,
            currency=options["currency"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Organization {organization.name!r} (id {organization.pk}) created; "
                f"owner {options['owner_email']}"
            )
        )
