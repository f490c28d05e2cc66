"""Without Chromium or Playwright the browser tests skip, and say what to install."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.browser import browser


def test_no_chromium_names_the_debian_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    reason = browser.skip_reason()
    assert reason is not None and "apt-get install -y chromium" in reason


def test_no_playwright_names_the_pip_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("")
    monkeypatch.setattr(browser, "CHROMIUM", fake)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    reason = browser.skip_reason()
    assert reason is not None and "pip install 'playwright" in reason
