"""The dashboard on the full dataset: re-weighting time, the ranked map in headless Chromium,
and API latency under 20 concurrent clients.

Needs the loaded database (``./gigasite setup``, which also saves the default run). Starts
the same server ``./gigasite up`` starts (gunicorn with collected static files) on a free port
and a throwaway planner account, removed afterwards. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GIGASITE_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100.0 * (len(ordered) - 1))))]


def _bench_reweight(run, client, repeats: int) -> None:
    from siting.dashboard import selectors as dashboard
    from siting.runs import selectors as run_selectors
    from siting.scoring.params import ScenarioParams

    sizes = dashboard.run_sizes(run)
    for size in sizes:
        client.get(f"/api/runs/{run.code}/reweight/?size={size}&w_tco=0.5")  # unpack and cache the run once
    rng = __import__("numpy").random.default_rng(1)
    server_ms, wall_ms = [], []
    for i in range(repeats):
        size = sizes[i % len(sizes)]
        w = rng.dirichlet([1.0] * 6)
        query = "&".join(
            f"w_{k}={v:.4f}" for k, v in zip(("tco", "emissions", "time_to_power", "land", "water", "reliability"), w)
        )
        t0 = time.perf_counter()
        resp = client.get(f"/api/runs/{run.code}/reweight/?size={size}&{query}")
        wall_ms.append(1000 * (time.perf_counter() - t0))
        server_ms.append(float(resp["Server-Timing"].split("dur=")[1]))
    params = ScenarioParams.from_dict(run.params)
    one_size = __import__("dataclasses").replace(params, sizes=(sizes[len(sizes) // 2],))
    run_selectors.score_loaded_sites(params=one_size)  # warm
    t0 = time.perf_counter()
    run_selectors.score_loaded_sites(params=one_size)
    rescoring_ms = 1000 * (time.perf_counter() - t0)
    print(f"re-weight, one size of {run.n_sites:,} sites ({repeats} random weightings):")
    print(
        f"  server time   median {statistics.median(server_ms):6.1f} ms  p95 {_percentile(server_ms, 95):6.1f} ms  (target < 300 ms)"
    )
    print(f"  with JSON     median {statistics.median(wall_ms):6.1f} ms  p95 {_percentile(wall_ms, 95):6.1f} ms")
    print(
        f"  vs a full deterministic rescoring of that size: {rescoring_ms:.0f} ms "
        f"(re-weighting ×{rescoring_ms / statistics.median(server_ms):.0f} faster)"
    )


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend that checks passwords (the first one only throttles log-ins).
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _map_drawn(page) -> int:
    return int(page.evaluate("Number(document.getElementById('ranked-map')?.dataset.drawn || 0)"))


def _map_wait(page, drawn: int, timeout_s: float = 120.0) -> None:
    # Polled from here: wait_for_function evaluates inside the page, which the CSP forbids.
    deadline = time.monotonic() + timeout_s
    while _map_drawn(page) < drawn:
        if time.monotonic() > deadline:
            state = page.evaluate("JSON.stringify(document.getElementById('ranked-map')?.dataset || {})")
            raise RuntimeError(f"the map was not redrawn within {timeout_s:.0f} s ({page.url}, {state})")
        page.wait_for_timeout(5)


def _baseline_modules(revision: str) -> dict[str, str]:
    """Return the ranked map's script modules at git ``revision``, by file stem.

    Revisions before the ES modules had one ``ranked_map.js``: it stands in for ``main``.
    """
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{revision}:static/js/ranked_map"], cwd=ROOT, capture_output=True, text=True
    )
    names = [n for n in listing.stdout.split() if n.endswith(".js")] if listing.returncode == 0 else []
    paths = {Path(n).stem: f"static/js/ranked_map/{n}" for n in names} or {"main": "static/js/ranked_map.js"}
    return {
        stem: subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        for stem, path in paths.items()
    }


def _module_stem(url: str) -> str:
    """Return the module's name without its directory, content hash and extension."""
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    return name.split(".", 1)[0]


def _map_pass(
    browser, base: str, username: str, password: str, run, sizes: list[str], modules: dict[str, str] | None
) -> dict:
    """One fresh browser context (cache empty): log in, a first load, a warm load, 3 filter and 3
    size redraws. ``modules`` (by file stem) replace the page's ranked-map script modules (the
    baseline of an A/B); a module the baseline lacks is answered with 404."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(180_000)
    errors: list[str] = []  # printed if the map never draws
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if modules is not None:

        def serve(route):
            body = modules.get(_module_stem(route.request.url))
            if body is None:
                route.fulfill(status=404, body="")
            else:
                route.fulfill(status=200, content_type="text/javascript", body=body)

        page.route("**/js/ranked_map/*.js", serve)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    out: dict = {"load": []}
    for attempt in range(2):
        page.goto("about:blank")
        t0 = time.perf_counter()
        page.goto(f"{base}/runs/{run.code}/map/")
        try:
            _map_wait(page, 1, 180.0)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; page errors: {errors}") from None
        out["load"].append(time.perf_counter() - t0)
        if attempt == 0:
            out["transfer"] = page.evaluate(
                "performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))"
                ".map(e => [e.name, e.transferSize, e.decodedBodySize])"
            )
            out["drawn"] = page.evaluate(
                "(() => { const d = document.getElementById('ranked-map').dataset;"
                " return [d.points, d.markers || d.points, d.cells || '0', Number(d.drawnAtMs)]; })()"
            )
            out["phases"] = page.evaluate(
                "(() => { const r = performance.getEntriesByType('resource');"
                " const end = (s) => Math.max(0, ...r.filter(e => e.name.includes(s)).map(e => e.responseEnd));"
                " return [end('plotly'), end('/map-'), performance.timing.domContentLoadedEventEnd"
                " - performance.timing.navigationStart]; })()"
            )
    # Redraws: a filter change (minimum score; less the page's 150 ms input debounce) and a
    # size change (each size's data is fetched once per page, then redrawn from memory).
    out["filter"], out["size"] = [], []
    for k in range(3):
        drawn = _map_drawn(page)
        t0 = time.perf_counter()
        page.evaluate(
            "(v) => { const s = document.getElementById('f-min-score'); s.value = v;"
            " s.dispatchEvent(new Event('input', {bubbles: true})); }",
            str(30 + 5 * k),
        )
        _map_wait(page, drawn + 1)
        out["filter"].append(time.perf_counter() - t0 - 0.150)
        drawn = _map_drawn(page)
        t0 = time.perf_counter()
        page.click(f".size-btn[data-size='{sizes[(k + 1) % len(sizes)]}']")
        _map_wait(page, drawn + 1)
        out["size"].append(time.perf_counter() - t0)
    context.close()
    return out


_MAP_PARTS = (("the run's sites", "/map-sites/"), ("the size's own columns", "/map-data/"))
"""The map data's requests: the site columns once per page, then each size's own columns (a size
change fetches only the latter)."""


def _bench_browser(base: str, username: str, password: str, run, repeats: int = 3, baseline: str | None = None) -> None:
    """The ranked map, ``repeats`` fresh passes; with ``baseline`` (a git revision) each pass also
    runs that revision's ranked-map script against the same server and data, alternately, and the
    ratios new/baseline are printed (the machine's load moves both alike)."""
    if not shutil.which(CHROMIUM):
        print(f"ranked map in Chromium: skipped (no {CHROMIUM})")
        return
    from playwright.sync_api import sync_playwright

    from siting.dashboard import selectors as dashboard

    sizes = [str(s) for s in dashboard.run_sizes(run)]  # before Playwright: the ORM refuses its event loop
    variants: dict[str, dict[str, str] | None] = {"this version": None}
    if baseline:
        variants[f"baseline {baseline}"] = _baseline_modules(baseline)
    passes: dict[str, list[dict]] = {name: [] for name in variants}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        for _ in range(max(repeats, 1)):
            for name, modules in variants.items():
                passes[name].append(_map_pass(browser, base, username, password, run, sizes, modules))
        browser.close()
    medians: dict[str, dict[str, float]] = {}
    for name, runs_ in passes.items():
        first = [r["load"][0] for r in runs_]
        warm = [r["load"][1] for r in runs_]
        redraw_filter = [v for r in runs_ for v in r["filter"]]
        redraw_size = [v for r in runs_ for v in r["size"]]
        medians[name] = {
            "first": statistics.median(first),
            "warm": statistics.median(warm),
            "filter": statistics.median(redraw_filter),
            "size": statistics.median(redraw_size),
        }
        points, markers, cells, drawn_ms = runs_[0]["drawn"]
        transfer, phases = runs_[0]["transfer"], runs_[0]["phases"]
        print(
            f"ranked map in headless Chromium, {name} ({int(points):,} ranked sites of {run.n_sites:,}, drawn as "
            f"{int(markers):,} markers, {int(cells):,} of them grid cells; min/median/max of {len(runs_)} fresh passes):"
        )
        print(
            f"  time to map drawn: first {_spread(first, '{:.2f}')} s, then {_spread(warm, '{:.2f}')} s (browser cache warm)"
            "  (target first ≤ 2 s)"
        )
        for label, values in (("filter change", redraw_filter), ("size change", redraw_size)):
            print(f"  redraw after a {label}: {_spread(values, '{:.2f}')} s over {len(values)}  (target ≤ 0.5 s)")
        print(
            f"  first load of pass 1: page ready {phases[2] / 1000:.2f} s, plotly.js in {phases[0] / 1000:.2f} s, "
            f"map data in {phases[1] / 1000:.2f} s, map drawn at {drawn_ms / 1000:.2f} s"
        )
        wire = sum(t[1] for t in transfer) / 1e6
        decoded = sum(t[2] for t in transfer) / 1e6
        print(
            f"  payload: {wire:.1f} MB over the wire, {decoded:.1f} MB decoded, {len(transfer)} requests  (target ≤ 3 MB)"
        )
        parts = [(label, [t for t in transfer if path in t[0]]) for label, path in _MAP_PARTS]
        parts = [(label, found[0]) for label, found in parts if found]
        if parts:
            print(
                "  of which map data: "
                + ", ".join(f"{label} {t[1] / 1e6:.2f} MB compressed ({t[2] / 1e6:.1f} MB JSON)" for label, t in parts)
            )
    if baseline:
        new, old = medians["this version"], medians[f"baseline {baseline}"]
        print(
            "  ratio of medians, this version / baseline (same server, data and load, passes alternated): "
            + ", ".join(f"{k} ×{new[k] / old[k]:.2f}" for k in ("first", "warm", "filter", "size"))
        )


def _api_urls(run, site_ids: list[int], n: int) -> list[str]:
    """Return ``n`` API requests of the dashboard's kinds: ranked pages, filters, re-weight, site, run."""
    from siting.dashboard import selectors as dashboard

    sizes = dashboard.run_sizes(run)
    urls = []
    for i in range(n):
        size = sizes[i % len(sizes)]
        urls.append(
            [
                f"/api/runs/{run.code}/sites/?size={size}&page_size=25&page={1 + i % 5}",
                f"/api/runs/{run.code}/sites/?size={size}&country=FR&min_score=40&page_size=25",
                f"/api/runs/{run.code}/reweight/?size={size}&w_tco={0.1 + 0.05 * (i % 10):.2f}",
                f"/api/sites/{site_ids[i % len(site_ids)]}/?run={run.code}&size={size}",
                f"/api/runs/{run.code}/",
            ][i % 5]
        )
    return urls


def _api_round(
    base: str, cookie: str, urls: list[str], clients: int, per_client: int
) -> tuple[list[float], list[str], float]:
    """Run ``clients`` threads of ``per_client`` requests each; return latencies [ms], failures, wall time [s]."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        for k in range(per_client):
            url = urls[(k + offset) % len(urls)]
            req = urllib.request.Request(base + url, headers={"Cookie": cookie, "Accept-Encoding": "gzip"})
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    resp.read()
                    ok = resp.status == 200
            except Exception as exc:  # counted, printed
                ok = False
                with lock:
                    failures.append(str(exc))
            dt = time.perf_counter() - t0
            with lock:
                if ok:
                    latencies.append(dt * 1000)

    threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures, time.perf_counter() - t0


def _spread(values: list[float], fmt: str = "{:.0f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def _bench_api(
    base: str, cookie: str, run, site_ids: list[int], clients: int, per_client: int, repeats: int = 3
) -> None:
    urls = _api_urls(run, site_ids, per_client)
    # Not timed: one round of every client first, so that every server process (not only the
    # one that took a single warm-up request) has unpacked the run's sizes; the time of that
    # round is printed as the cold figure.
    cold, cold_failures, _wall = _api_round(base, cookie, urls, clients, per_client)
    # Baseline, same run: one client alone, the same requests.
    single, single_failures, _wall = _api_round(base, cookie, urls, 1, 2 * per_client)
    rounds = [_api_round(base, cookie, urls, clients, per_client) for _ in range(max(repeats, 1))]
    p50 = [_percentile(r[0], 50) for r in rounds]
    p95 = [_percentile(r[0], 95) for r in rounds]
    p99 = [_percentile(r[0], 99) for r in rounds]
    rate = [len(r[0]) / r[2] for r in rounds]
    failures = sum(len(r[1]) for r in rounds)
    print(
        f"API under {clients} concurrent clients ({clients * per_client:,} requests a round: ranked pages, filters, "
        f"re-weight, site, run; min/median/max of {len(rounds)} rounds):"
    )
    print(f"  p50 {_spread(p50)} ms  p95 {_spread(p95)} ms  p99 {_spread(p99)} ms  (target p95 ≤ 250, p99 ≤ 1000)")
    print(f"  throughput {_spread(rate, '{:.1f}')} req/s  failures {failures}")
    print(
        f"  baseline, one client alone: p50 {_percentile(single, 50):.0f} ms  p95 {_percentile(single, 95):.0f} ms "
        f"({len(single_failures)} failures); under {clients} clients p95 is ×{statistics.median(p95) / _percentile(single, 95):.1f} "
        f"the lone client's"
    )
    print(
        f"  first round (right after the server started): p50 {_percentile(cold, 50):.0f} ms  p95 {_percentile(cold, 95):.0f} ms  "
        f"p99 {_percentile(cold, 99):.0f} ms  failures {len(cold_failures)}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_dashboard")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30, help="requests per client")
    parser.add_argument("--repeats", type=int, default=50, help="re-weightings timed")
    parser.add_argument("--map-repeats", type=int, default=3, help="fresh browser passes over the ranked map")
    parser.add_argument(
        "--map-baseline",
        default=None,
        metavar="REV",
        help="also time this git revision's ranked-map script (static/js/ranked_map/), alternately, and print the ratios",
    )
    parser.add_argument("--only-map", action="store_true", help="the ranked map only (no re-weighting, no API load)")
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from siting.dashboard import selectors as dashboard
    from siting.models import Site

    run = dashboard.latest_run()
    if run is None or not Site.objects.exists():
        print("bench_dashboard: no finished run; run ./gigasite setup first (it saves the default run)")
        return
    username, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    user = User.objects.create_user(username, password=password)
    user.groups.add(Group.objects.get(name="planner"))
    port = _free_port()
    # The server ./gigasite up starts: gunicorn, a process per core with 4 threads, static files
    # collected (hashed, compressed).
    env = {**os.environ, "GIGASITE_DEBUG": "0", "PYTHONUNBUFFERED": "1", "GIGASITE_STATIC": "collected"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    workers = str(os.cpu_count() or 1)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            workers,
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--timeout",
            "180",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        if not args.only_map:
            _bench_reweight(run, client, args.repeats)
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        _bench_browser(base, username, password, run, args.map_repeats, args.map_baseline)
        if args.only_map:
            return
        site_ids = list(Site.objects.order_by("?").values_list("id", flat=True)[:200])
        _bench_api(base, _session_cookie(user), run, site_ids, args.clients, args.requests)
    finally:
        server.terminate()
        server.wait(timeout=20)
        user.delete()
