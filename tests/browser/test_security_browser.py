"""Hostile uploads through the real page (issue 11): no server files read, races stay one line."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CHOOSER = ".civsim-upload input[type=file]"


def upload(page, name: str, data: bytes) -> None:
    page.set_input_files(CHOOSER, files=[{"name": name, "mimeType": "text/plain", "buffer": data}])


def test_upload_extending_a_server_file_is_refused_in_one_line(open_page, tmp_path):
    victim = tmp_path / "other_user.toml"
    victim.write_text('description = "SECRET other user"\n[params]\noutreach = 0.91\n')
    page = open_page("/", ".civsim-stat-month")
    upload(page, str(victim), f'extends = "{victim}"\n'.encode())
    text = page.wait_for_selector(".civsim-upload-error").inner_text().strip()
    assert "may extend only a preset" in text and "SECRET" not in text
    assert str(tmp_path) not in text.split("extends", 1)[0]  # the client's name is only a label
    assert "Traceback" not in page.inner_text("body")


def test_rapid_reuploads_end_with_the_last_file(open_page):
    page = open_page("/", ".civsim-stat-month")
    for i in range(4):
        upload(page, f"quick{i}.toml", f'description = "Quick {i}."\nextends = "baseline"\n'.encode())
    page.wait_for_function(
        "() => { const e = document.querySelector('.civsim-upload-ok'); "
        "return e && e.innerText.includes('Quick 3.'); }",
        timeout=60_000,
    )
    body = page.inner_text("body")
    assert "Traceback" not in body and "memoryview" not in body
