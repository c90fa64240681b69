"""The admin lists, filters and searches every model."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


class AdminTests:
    def test_it_opens_every_changelist_with_a_search(self, client):
        client.force_login(User.objects.create_superuser("root", password="x"))
        for model in admin.site._registry:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/?q=a"
            assert client.get(url).status_code == 200, url
