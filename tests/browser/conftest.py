"""Browser fixtures: Debian's chromium driven by Playwright, against a live server.

Never a downloaded browser. Without /usr/bin/chromium the browser tests skip,
except under CI=true where that is a failure.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.helpers import IS_CI

CHROMIUM = "/usr/bin/chromium"
# A phone inside WeChat: the in-app browser most owners will use.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2238A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560 NetType/WIFI Language/zh_CN"
)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if shutil.which("chromium") is None and not shutil.os.path.exists(CHROMIUM):
        if IS_CI:
            pytest.fail("Debian's chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A page at 360 px wide, touch, Chinese, with WeChat's user agent."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=WECHAT_UA,
    )
    page = context.new_page()
    yield page
    context.close()
