"""The compare_pdf command: writes the PDF, serves it again from the cache, explains what is wrong."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.support.reports import SIZE
from tests.support.reports import scored_run as _scored_run
from tests.support.reports import shortlist as _shortlist

pytestmark = pytest.mark.django_db


class CompareCommandTests:
    def test_it_writes_the_pdf_then_serves_it_from_the_cache(self, tmp_path, capsys):
        run = _scored_run(draws=0)
        ids = [str(i) for i in _shortlist(run)]
        out = tmp_path / "cmp.pdf"
        call_command("compare_pdf", "--run", str(run.id), "--size", str(SIZE), *ids, "--out", str(out), "--lang", "fr")
        assert out.read_bytes().startswith(b"%PDF") and "rendered in" in capsys.readouterr().out
        again = tmp_path / "again.pdf"
        call_command(
            "compare_pdf", "--run", str(run.code), "--size", str(SIZE), *ids, "--out", str(again), "--lang", "fr"
        )
        assert "from the cache" in capsys.readouterr().out and again.read_bytes() == out.read_bytes()

    def test_it_explains_what_is_wrong(self, tmp_path):
        run = _scored_run(draws=0)
        ids = [str(i) for i in _shortlist(run)]
        with pytest.raises(CommandError, match="no such run"):
            call_command("compare_pdf", "--run", "999999", "--size", str(SIZE), *ids, "--out", str(tmp_path / "x.pdf"))
        with pytest.raises(CommandError, match="cluster size"):
            call_command("compare_pdf", "--run", str(run.id), "--size", "3", *ids, "--out", str(tmp_path / "x.pdf"))
        assert not (tmp_path / "x.pdf").exists()
