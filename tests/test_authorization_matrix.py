"""Who may do what, for every URL the project serves: a matrix generated from the URL configuration.

Every pattern (``get_resolver()``, includes followed) must have a rule in ``RULES`` (or, for
the Django admin's generated model pages, in ``_admin_model_rules``); a new URL without one
fails here, and so does a rule whose URL no longer exists. Each rule says, per method, the
status every principal gets: anonymous, a user without a role, planner, analyst, official,
admin, and ``other`` — a second user of the owning role acting on the first one's object
(an upload of another analyst, a run of another planner, a document of another official).

Expected codes: an int, or ``LOGIN`` (a redirect to the site's login page) or ``ADMIN_LOGIN``
(to the admin's). Each request runs in a savepoint that is rolled back, so a withdrawal or a
cancellation never leaks into the next principal's request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from siting.dashboard import selectors as dashboard
from siting.models import ComparisonReport, ScoringRun, Site, SiteUpload
from siting.reports import services as comparisons
from siting.runs import selectors as run_selectors
from tests.support.personas import user_create as _user

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
PRINCIPALS = ("anonymous", "no_role", "planner", "analyst", "official", "admin", "other")
HUGE_ID = 2**64
"""Beyond any database id: int path parameters must answer 404, never 500."""


def E(anonymous, no_role, planner, analyst, official, admin_, other=None) -> dict[str, Any]:
    """Return one method's expectations; ``other`` defaults to what the owning role gets."""
    return {
        "anonymous": anonymous,
        "no_role": no_role,
        "planner": planner,
        "analyst": analyst,
        "official": official,
        "admin": admin_,
        "other": other,
    }


# Profiles shared by many pages.
ANY_ROLE = E(LOGIN, 403, 200, 200, 200, 200)
ANALYSTS = E(LOGIN, 403, 403, 200, 403, 200)
OFFICIALS = E(LOGIN, 403, 403, 403, 200, 200)
API = E(401, 403, 200, 200, 200, 200)
PUBLIC = E(200, 200, 200, 200, 200, 200)
GET_ONLY_AFTER_LOGIN = E(LOGIN, 405, 405, 405, 405, 405)  # @login_required outside @require_GET / POST
NOT_ALLOWED = E(405, 405, 405, 405, 405, 405)


@dataclass
class Rule:
    url: Callable[[Any], str]
    methods: dict[str, dict[str, Any]]
    owner_role: str = "planner"
    data: Callable[[Any], dict] = field(default=lambda o: {})


RULES: dict[str, Rule] = {
    # accounts and language
    "login": Rule(lambda o: "/accounts/login/", {"GET": PUBLIC, "POST": PUBLIC}),  # an empty form: errors, 200
    "logout": Rule(lambda o: "/accounts/logout/", {"GET": NOT_ALLOWED, "POST": E(302, 302, 302, 302, 302, 302)}),
    # GET changes nothing and sends back to "/"; POST sets the language cookie
    "set_language": Rule(
        lambda o: "/i18n/setlang/",
        {"GET": E(302, 302, 302, 302, 302, 302), "POST": E(302, 302, 302, 302, 302, 302)},
        data=lambda o: {"language": "fr", "next": "/"},
    ),
    # home and sources: the home page counts uploads, so a login and a role; sources are public
    "home": Rule(lambda o: "/", {"GET": E(LOGIN, 200, 200, 200, 200, 200), "POST": E(LOGIN, 200, 200, 200, 200, 200)}),
    "siting-sources": Rule(lambda o: "/sources/", {"GET": PUBLIC, "POST": PUBLIC}),
    # runs
    "siting-run-list": Rule(lambda o: "/runs/", {"GET": ANY_ROLE, "POST": GET_ONLY_AFTER_LOGIN}),
    "siting-run-start": Rule(
        lambda o: "/runs/start/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 302, 302, 403, 302)},
        data=lambda o: {"name": "matrix", "preset": "default", "sizes": ["1000"], "draws": "0"},
    ),
    "siting-run-detail": Rule(lambda o: f"/runs/{o.run.code}/", {"GET": ANY_ROLE, "POST": GET_ONLY_AFTER_LOGIN}),
    "siting-run-progress": Rule(
        lambda o: f"/runs/{o.run.code}/progress.json", {"GET": ANY_ROLE, "POST": GET_ONLY_AFTER_LOGIN}
    ),
    "siting-run-cancel": Rule(
        lambda o: f"/runs/{o.live_run.code}/cancel/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 302, 403, 403, 302, other=403)},
    ),
    # uploads: analysts see every imported upload; only its owner or an admin acts on it
    "siting-upload-list": Rule(
        lambda o: "/uploads/", {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN}, owner_role="analyst"
    ),
    "siting-upload-create": Rule(
        lambda o: "/uploads/new/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 400, 403, 400)},
        owner_role="analyst",
    ),
    "siting-upload-template": Rule(
        lambda o: "/uploads/template/", {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN}, owner_role="analyst"
    ),
    "siting-upload-template-csv": Rule(
        lambda o: "/uploads/template.csv", {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN}, owner_role="analyst"
    ),
    "siting-upload-sample": Rule(
        lambda o: "/uploads/samples/sites_template.csv",
        {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="analyst",
    ),
    "siting-upload-detail": Rule(
        lambda o: f"/uploads/{o.upload.code}/", {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN}, owner_role="analyst"
    ),
    "siting-upload-errors": Rule(
        lambda o: f"/uploads/{o.upload.code}/errors.csv",
        {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="analyst",
    ),
    "siting-upload-withdraw": Rule(
        lambda o: f"/uploads/{o.upload.code}/withdraw/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 302, 403, 302, other=403)},
        owner_role="analyst",
    ),
    # a staged upload is invisible to other analysts (404), so is confirming or discarding it
    "siting-upload-confirm": Rule(
        lambda o: f"/uploads/{o.staged.code}/confirm/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 302, 403, 302, other=404)},
        owner_role="analyst",
    ),
    "siting-upload-discard": Rule(
        lambda o: f"/uploads/{o.staged.code}/discard/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 302, 403, 302, other=404)},
        owner_role="analyst",
    ),
    # known headroom uploads: an analyst's own previews and uploads (another analyst's answer 404); admins all
    "siting-headroom-list": Rule(
        lambda o: "/uploads/headroom/", {"GET": ANALYSTS, "POST": GET_ONLY_AFTER_LOGIN}, owner_role="analyst"
    ),
    "siting-headroom-create": Rule(
        lambda o: "/uploads/headroom/new/",  # no file: the form again, 400
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 400, 403, 400)},
        owner_role="analyst",
    ),
    "siting-headroom-preview": Rule(
        lambda o: f"/uploads/headroom/preview/{o.headroom_preview()}/",
        {"GET": E(LOGIN, 403, 403, 200, 403, 200, other=404), "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="analyst",
    ),
    "siting-headroom-confirm": Rule(
        lambda o: f"/uploads/headroom/preview/{o.headroom_preview()}/confirm/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 302, 403, 302, other=404)},
        owner_role="analyst",
    ),
    "siting-headroom-discard": Rule(
        lambda o: f"/uploads/headroom/preview/{o.headroom_preview()}/discard/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 302, 403, 302, other=404)},
        owner_role="analyst",
    ),
    "siting-headroom-detail": Rule(
        lambda o: f"/uploads/headroom/{o.headroom.code}/",
        {"GET": E(LOGIN, 403, 403, 200, 403, 200, other=404), "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="analyst",
    ),
    "siting-headroom-withdraw": Rule(
        lambda o: f"/uploads/headroom/{o.headroom.code}/withdraw/",
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 302, 403, 302, other=404)},
        owner_role="analyst",
    ),
    # PDF comparisons: officials; a document is its requester's
    "siting-report-create": Rule(
        lambda o: "/reports/",
        # the official's own stored document comes straight back; others queue theirs
        {"GET": GET_ONLY_AFTER_LOGIN, "POST": E(LOGIN, 403, 403, 403, 200, 302, other=302)},
        owner_role="official",
        data=lambda o: {"run": str(o.run.code), "size": str(o.size), "site": [str(i) for i in o.site_ids]},
    ),
    "siting-report-select": Rule(
        lambda o: f"/reports/runs/{o.run.code}/select/",
        {"GET": OFFICIALS, "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="official",
    ),
    "siting-report-status": Rule(
        lambda o: f"/reports/{o.report.code}/",
        {"GET": {**OFFICIALS, "other": 403}, "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="official",
    ),
    "siting-report-progress": Rule(
        lambda o: f"/reports/{o.report.code}/progress.json",
        {"GET": {**OFFICIALS, "other": 403}, "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="official",
    ),
    "siting-report-download": Rule(
        lambda o: f"/reports/{o.report.code}/download/",
        {"GET": {**OFFICIALS, "other": 403}, "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="official",
    ),
    # dashboard pages
    "siting-map": Rule(lambda o: "/map/", {"GET": E(LOGIN, 403, 302, 302, 302, 302), "POST": GET_ONLY_AFTER_LOGIN}),
    "siting-map-open": Rule(
        lambda o: f"/map/open/?run={o.run.code}",
        {"GET": E(LOGIN, 403, 302, 302, 302, 302), "POST": GET_ONLY_AFTER_LOGIN},
    ),
    "siting-run-map": Rule(lambda o: f"/runs/{o.run.code}/map/", {"GET": ANY_ROLE, "POST": GET_ONLY_AFTER_LOGIN}),
    "siting-site-detail": Rule(lambda o: f"/sites/{o.site_id}/", {"GET": ANY_ROLE, "POST": GET_ONLY_AFTER_LOGIN}),
    # API: its documentation is public; the data needs a role (401/403 as JSON)
    "siting-api-openapi": Rule(lambda o: "/api/openapi.json", {"GET": PUBLIC, "POST": PUBLIC}),
    "siting-api-docs": Rule(lambda o: "/api/docs/", {"GET": PUBLIC, "POST": NOT_ALLOWED}),
    "siting-api-runs": Rule(lambda o: "/api/runs/", {"GET": API, "POST": NOT_ALLOWED}),
    "siting-api-run": Rule(lambda o: f"/api/runs/{o.run.code}/", {"GET": API, "POST": NOT_ALLOWED}),
    "siting-api-run-sites": Rule(
        lambda o: f"/api/runs/{o.run.code}/sites/?size={o.size}", {"GET": API, "POST": NOT_ALLOWED}
    ),
    "siting-api-run-map-data": Rule(
        lambda o: f"/api/runs/{o.run.code}/map-data/?size={o.size}", {"GET": API, "POST": NOT_ALLOWED}
    ),
    "siting-api-run-map-sites": Rule(lambda o: f"/api/runs/{o.run.code}/map-sites/", {"GET": API, "POST": NOT_ALLOWED}),
    "siting-api-run-reweight": Rule(
        lambda o: f"/api/runs/{o.run.code}/reweight/?size={o.size}", {"GET": API, "POST": NOT_ALLOWED}
    ),
    "siting-api-site": Rule(lambda o: f"/api/sites/{o.site_id}/", {"GET": API, "POST": NOT_ALLOWED}),
    "siting-api-grid-points": Rule(lambda o: "/api/grid/points/", {"GET": API, "POST": NOT_ALLOWED}),
    "siting-api-zones": Rule(lambda o: "/api/zones/", {"GET": API, "POST": NOT_ALLOWED}),
    "siting-api-boundaries": Rule(lambda o: "/api/boundaries/country/", {"GET": API, "POST": NOT_ALLOWED}),
    # portfolios: planners and officials (admins); each portfolio its owner's; the PDF for officials
    "siting-portfolio-list": Rule(
        lambda o: "/portfolios/",
        {"GET": E(LOGIN, 403, 200, 403, 200, 200), "POST": E(LOGIN, 403, 302, 403, 302, 302)},
        data=lambda o: {
            "run": str(o.run.code),
            "target_kind": "clusters",
            "clusters": "2x10000",
            "objective": "score",
            "share_headroom": "on",
        },
    ),
    "siting-portfolio-detail": Rule(
        lambda o: f"/portfolios/{o.portfolio.code}/",
        {"GET": E(LOGIN, 403, 200, 403, 403, 200, other=403), "POST": GET_ONLY_AFTER_LOGIN},
    ),
    "siting-portfolio-progress": Rule(
        lambda o: f"/portfolios/{o.portfolio.code}/progress.json",
        {"GET": E(LOGIN, 403, 200, 403, 403, 200, other=403), "POST": GET_ONLY_AFTER_LOGIN},
    ),
    "siting-portfolio-pdf": Rule(
        lambda o: f"/portfolios/{o.official_portfolio.code}/pdf/",
        {"GET": E(LOGIN, 403, 403, 403, 200, 200, other=403), "POST": GET_ONLY_AFTER_LOGIN},
        owner_role="official",
    ),
    "siting-api-portfolios": Rule(
        lambda o: "/api/portfolios/", {"GET": E(401, 403, 200, 403, 200, 200), "POST": NOT_ALLOWED}
    ),
    "siting-api-portfolio": Rule(
        lambda o: f"/api/portfolios/{o.portfolio.code}/",
        {"GET": E(401, 403, 200, 403, 403, 200, other=403), "POST": NOT_ALLOWED},
    ),
}

# The Django admin: staff only. Everyone else is sent to the admin's login; the admin opens
# the pages (or gets 403 where a ModelAdmin is read-only, or 302 back to a list).
STAFF = E(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)
ADMIN_RULES: dict[str, Rule] = {
    "admin:index": Rule(lambda o: "/admin/", {"GET": STAFF}),
    "admin:login": Rule(lambda o: "/admin/login/", {"GET": E(200, 200, 200, 200, 200, 302)}),
    # GET never logs out: staff get 405, others are sent back to the admin (then its login)
    "admin:logout": Rule(lambda o: "/admin/logout/", {"GET": E(302, 302, 302, 302, 302, 405)}),
    "admin:password_change": Rule(lambda o: "/admin/password_change/", {"GET": STAFF}),
    "admin:password_change_done": Rule(lambda o: "/admin/password_change/done/", {"GET": STAFF}),
    "admin:autocomplete": Rule(lambda o: "/admin/autocomplete/", {"GET": {**STAFF, "admin": 403}}),  # no field named
    "admin:jsi18n": Rule(lambda o: "/admin/jsi18n/", {"GET": STAFF}),
    "admin:view_on_site": Rule(lambda o: f"/admin/r/{HUGE_ID}/1/", {"GET": {**STAFF, "admin": 404}}),
    "admin:app_list": Rule(lambda o: "/admin/siting/", {"GET": STAFF}),
    "admin:auth_user_password_change": Rule(
        lambda o: f"/admin/auth/user/{o.users['planner'].pk}/password/", {"GET": STAFF}
    ),
    "admin/(?P<url>.*)$": Rule(lambda o: "/admin/no-such-page/", {"GET": {**STAFF, "admin": 404}}),
}


def _admin_model_rules() -> dict[str, Rule]:
    """Rules for the pages the admin generates for each registered model (list, add, change, …)."""
    rules = {}
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        base = f"/admin/{app}/{name}/"

        def pk(o, model=model):
            obj = model._default_manager.order_by("pk").first()
            return obj.pk if obj is not None else 1

        # Read-only admins (axes' logs) answer 403 to add/change/delete; a missing object 302s to the list.
        ok = {**STAFF, "admin": (200, 302, 403)}
        rules[f"admin:{app}_{name}_changelist"] = Rule(lambda o, b=base: b, {"GET": STAFF})
        rules[f"admin:{app}_{name}_add"] = Rule(lambda o, b=base: b + "add/", {"GET": ok})
        for action in ("history", "delete", "change"):
            rules[f"admin:{app}_{name}_{action}"] = Rule(
                lambda o, b=base, a=action, p=pk: f"{b}{p(o)}/{a}/", {"GET": ok}
            )
        rules[f"admin/{app}/{name}/<path:object_id>/"] = Rule(
            lambda o, b=base, p=pk: f"{b}{p(o)}/", {"GET": {**STAFF, "admin": 302}}
        )
    return rules


# --- the URL configuration, walked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # namespaced name, or the full route for an unnamed pattern
    route: str
    int_params: tuple[str, ...]


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            ints = tuple(
                name
                for name, conv in getattr(p.pattern, "converters", {}).items()
                if type(conv).__name__ == "IntConverter"
            )
            yield Pattern(key=f"{namespace}{p.name}" if p.name else route, route=route, int_params=ints)


def url_patterns() -> list[Pattern]:
    """Return every URL pattern the project serves, includes followed."""
    return list(_walk(get_resolver().url_patterns))


def all_rules() -> dict[str, Rule]:
    return {**RULES, **ADMIN_RULES, **_admin_model_rules()}


PATTERNS = url_patterns()


class CoverageTests:
    def test_it_has_a_rule_for_every_url_pattern_and_no_stale_rule(self):
        keys = [p.key for p in PATTERNS]
        rules = all_rules()
        missing = sorted(set(keys) - set(rules))
        assert missing == [], f"URL patterns without an authorisation rule (add them to RULES): {missing}"
        stale = sorted(set(rules) - set(keys))
        assert stale == [], f"rules for URLs that no longer exist: {stale}"
        assert len(set(keys)) == len(keys), "two patterns share one key"

    @pytest.mark.django_db
    def test_it_reaches_every_pattern_with_its_rules_url(self, world):
        # Coverage: each rule's URL resolves to the very pattern it is the rule of, so the
        # matrix (parametrised by the same list) requests 100 % of the patterns.
        reached = {_pattern_of(resolve(all_rules()[p.key].url(world).split("?")[0])) for p in PATTERNS}
        missed = sorted({p.key for p in PATTERNS} - reached)
        assert missed == [], f"patterns no rule's URL reaches: {missed}"
        assert len(reached) == len(PATTERNS) == len(MATRIX_IDS)


def _pattern_of(match) -> str:
    """Return the key of the pattern a ResolverMatch came from (as ``url_patterns`` names it)."""
    if match.url_name:
        return ":".join([*match.namespaces, match.url_name])
    return "".join(str(p.pattern) for p in match.tried[-1]) if match.tried else match.route


MATRIX_IDS = [p.key for p in PATTERNS]


# --- the world the URLs need ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.test import override_settings

    from tests.support.world import scored_world_create

    # Headroom previews wait in a folder of their own for this module (siting.uploads.headroom_services).
    with (
        django_db_blocker.unblock(),
        override_settings(GIGASITE_HEADROOM_STAGING_DIR=str(tmp_path_factory.mktemp("staged"))),
    ):
        run = scored_world_create(n_sites=40, n_points=40, draws=0)
        users = {
            "no_role": _user("m-nobody", None),
            "planner": _user("m-planner", "planner"),
            "other_planner": _user("m-planner2", "planner"),
            "analyst": _user("m-analyst", "analyst"),
            "other_analyst": _user("m-analyst2", "analyst"),
            "official": _user("m-official", "official"),
            "other_official": _user("m-official2", "official"),
            "admin": User.objects.create_superuser("m-admin", password="pw"),
        }
        users["admin"].groups.add(Group.objects.get(name="admin"))
        size = 10000
        table = run_selectors.run_table(run)
        at = table[(table["size_h100e"] == size) & table["feasible"]].sort_values("rank")
        site_ids = [int(i) for i in at["site_id"].head(2)]
        report, _cached = comparisons.comparison_produce(
            run=run, size_h100e=size, site_ids=site_ids, language="en", user=users["official"]
        )
        assert report.status == ComparisonReport.Status.SUCCEEDED, report.error
        upload = SiteUpload.objects.create(
            status=SiteUpload.Status.IMPORTED,
            file_name="ana.csv",
            sha256="0" * 64,
            source_name="Matrix",
            uploaded_by=users["analyst"],
            imported_at=timezone.now(),
            errors=[{"row": 3, "field": "area_ha", "value": "-5", "reason": "negative"}],
            errors_total=1,
        )
        unused = list(Site.objects.exclude(id__in=site_ids).order_by("-id").values_list("id", flat=True)[:2])
        Site.objects.filter(id__in=unused).update(upload=upload)
        staged = SiteUpload.objects.create(
            status=SiteUpload.Status.STAGED,
            file_name="ana2.csv",
            sha256="1" * 64,
            source_name="Matrix",
            uploaded_by=users["analyst"],
        )
        live_run = ScoringRun.objects.create(
            scenario_name="live", params={}, status=ScoringRun.Status.QUEUED, created_by=users["planner"]
        )
        from siting.portfolio.problem import PortfolioProblem
        from siting.portfolio.services import portfolio_produce

        pair = PortfolioProblem(clusters=((size, 2),))
        portfolio = portfolio_produce(run=run, problem=pair, user=users["planner"])
        official_portfolio = portfolio_produce(run=run, problem=pair, user=users["official"])
        assert official_portfolio.feasible, official_portfolio.result

        from grid.models import GridConnectionPoint
        from siting.uploads.headroom_imports import headroom_import
        from siting.uploads.headroom_services import headroom_stage

        point = GridConnectionPoint.objects.order_by("id").first()
        headroom_csv = f"point_id,headroom_mw,date,source\n{point.external_id},300,2025-09-30,Matrix TSO\n".encode()
        headroom = headroom_import(
            data=headroom_csv, file_name="hr.csv", source_name="Matrix", user=users["analyst"]
        ).upload

        def headroom_preview() -> str:
            # A fresh preview per rule: confirming or discarding one removes its files once committed,
            # which the matrix's rolled-back requests never are.
            return headroom_stage(
                data=headroom_csv, file_name="hr2.csv", source_name="Matrix", user=users["analyst"]
            ).token

        class Objects:
            pass

        o = Objects()
        o.headroom, o.headroom_preview = headroom, headroom_preview
        o.run, o.live_run, o.upload, o.staged, o.report, o.users = run, live_run, upload, staged, report, users
        o.size, o.site_ids, o.site_id = size, site_ids, site_ids[0]
        o.portfolio, o.official_portfolio = portfolio, official_portfolio
        yield o
        ComparisonReport.objects.all().delete()
        ScoringRun.objects.all().delete()
        Site.objects.all().delete()
        SiteUpload.objects.all().delete()
        from grid.models import GridConnectionPoint, HeadroomUpload, Zone

        GridConnectionPoint.objects.all().delete()
        HeadroomUpload.objects.all().delete()
        Zone.objects.all().delete()
        User.objects.filter(username__startswith="m-").delete()
        dashboard.caches_clear()


def _client_for(world, principal: str, owner_role: str) -> Client:
    client = Client()
    if principal == "anonymous":
        return client
    user = world.users[f"other_{owner_role}"] if principal == "other" else world.users[principal]
    client.force_login(user)
    return client


def _matches(expected, resp) -> bool:
    if expected == LOGIN:
        return resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    if expected == ADMIN_LOGIN:
        return resp.status_code == 302 and resp["Location"].startswith("/admin/login/")
    if isinstance(expected, tuple):
        return resp.status_code in expected and not (resp.status_code == 302 and "/login/" in resp["Location"])
    return resp.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("key", MATRIX_IDS)
def test_authorization_matrix(world, key):
    rule = all_rules()[key]
    url = rule.url(world)
    pattern = next(p for p in PATTERNS if p.key == key)
    assert _pattern_of(resolve(url.split("?")[0])) == pattern.key, f"{url} does not reach {pattern.key}"
    failures = []
    for method, expectations in rule.methods.items():
        for principal in PRINCIPALS:
            expected = expectations[principal]
            if expected is None:  # "other" where no object is owned: what the owning role gets
                expected = expectations[rule.owner_role]
            client = _client_for(world, principal, rule.owner_role)
            with transaction.atomic():
                if method == "GET":
                    resp = client.get(url)
                else:
                    resp = client.post(url, rule.data(world))
                transaction.set_rollback(True)
            if not _matches(expected, resp):
                failures.append(
                    f"{method} {url} as {principal}: expected {expected}, got {resp.status_code}"
                    f"{' → ' + resp['Location'] if resp.status_code in (301, 302) else ''}"
                )
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("key", [p.key for p in PATTERNS if p.int_params])
def test_huge_int_path_params_answer_404(world, key):
    """An id beyond the database's range is a 404 for the admin (who may see everything), never a 500."""
    pattern = next(p for p in PATTERNS if p.key == key)
    url = "/" + re.sub(r"<int:\w+>", str(HUGE_ID), pattern.route)
    url = re.sub(r"<(?:path|str):\w+>", "1", url)
    client = Client()
    client.force_login(world.users["admin"])
    assert client.get(url).status_code == 404, url
