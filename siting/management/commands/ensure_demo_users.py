"""Create the demo admin and one user per role; print the credentials when first created."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from siting.accounts import WeakPassword, demo_users_ensure


class Command(BaseCommand):
    help = "Create the demo admin and planner/analyst/official users once, and print their credentials."

    def handle(self, *args, **options) -> None:
        try:
            creds = demo_users_ensure()
        except WeakPassword as exc:
            raise CommandError(str(exc)) from None
        new = [c for c in creds if c.created]
        if not new:
            self.stdout.write("Demo users exist already (passwords in .local/demo_credentials.json).")
            return
        self.stdout.write(self.style.SUCCESS("Demo users created (shown once; also in .local/demo_credentials.json):"))
        for c in new:
            self.stdout.write(f"  {c.role:<9} user {c.username!r} password {c.password!r}")
