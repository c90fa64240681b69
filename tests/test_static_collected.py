"""What ``./gigasite up`` serves: static files collected under content-hashed names, with
gzip and brotli variants, and pages that point at the hashed names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _manage(args: list[str], var_dir: Path, code: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GIGASITE_STATIC": "collected",
        "GIGASITE_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    cmd = [sys.executable, "manage.py", *args] if code is None else [sys.executable, "-c", code]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=True)


class CollectedStaticTests:
    def test_it_collects_hashed_files_with_gzip_and_brotli_and_links_pages_to_them(self, tmp_path):
        _manage(["collectstatic", "--noinput", "-v", "0"], tmp_path)
        root = tmp_path / "staticfiles"
        manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
        hashed = manifest["vendor/plotly/plotly.min.js"]
        assert hashed != "vendor/plotly/plotly.min.js"
        for suffix in ("", ".gz", ".br"):
            assert (root / f"{hashed}{suffix}").is_file(), suffix
        assert (root / f"{hashed}.br").stat().st_size < (root / hashed).stat().st_size / 3
        out = _manage(
            [],
            tmp_path,
            code=(
                "import django; django.setup();"
                "from django.templatetags.static import static; print(static('js/ranked_map/main.js'))"
            ),
        )
        assert out.stdout.strip() == "/static/" + manifest["js/ranked_map/main.js"]
        # The ranked map's ES modules import one another under their hashed names too.
        imports = re.findall(
            r'^import .* from "\./([^"]+)";$', (root / manifest["js/ranked_map/main.js"]).read_text(), re.M
        )
        assert imports and all(f"js/ranked_map/{name}" in manifest.values() for name in imports), imports
