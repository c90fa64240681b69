from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitingConfig(AppConfig):
    name = "siting"
    verbose_name = _("Siting")
