"""The web UI in headless Chromium (Debian's ``chromium`` and ``chromium-driver``).

``.ci/run`` installs both when CI=true; elsewhere the test skips unless they are installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from anymail.sandbox import Sandbox
from anymail.signals import inbound
from anymail.testing import captured_events
from tests.sandbox.messages import order

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "Chromium and its driver are not installed (apt-get install chromium chromium-driver)"

if not (CHROMIUM and CHROMEDRIVER) and os.environ.get("CI") == "true":
    # CI installs them: a skip there would hide a UI that no longer works.
    raise RuntimeError(f"{MISSING}, but CI=true: .ci/run should have installed them.")

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        driver.set_page_load_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


def click_and_load(browser: Any, element: Any) -> None:
    """Click a link or submit button and wait until the next page has loaded.

    ``click()`` returns before the navigation it starts: without the wait, the next
    lookup may run on the old page (which happens on a busy machine).
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(browser, 60)
    wait.until(expected_conditions.staleness_of(old_page))
    wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")


@pytest.mark.parametrize("esp", ["postmark", "amazon_ses"])
def test_list_open_and_bounce(sandbox: Sandbox, browser: Any, esp: str) -> None:
    from selenium.webdriver.common.by import By

    settings = sandbox.settings(esp)
    with override_settings(EMAIL_BACKEND=sandbox.backend(esp), ANYMAIL=settings):
        order(
            subject="Your order <script>window.hacked=1</script>",
            body="Hi Ana, your order is on its way.",
        ).send()
        message_html = "<p>Hi</p><script>parent.document.title='hacked'</script>"
        mail = order(subject="HTML mail", to=["jo@example.com"])
        mail.attach_alternative(message_html, "text/html")
        mail.send()

        browser.get(sandbox.url)
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.message")
        assert len(rows) == 2
        assert sandbox.emulator(esp).name in rows[1].text
        link = browser.find_element(By.LINK_TEXT, "Your order <script>window.hacked=1</script>")
        click_and_load(browser, link)
        assert browser.execute_script("return window.hacked") is None
        assert "ana@example.com" in browser.find_element(By.TAG_NAME, "table").text

        with captured_events() as events:
            click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "button[value=bounced]"))
            row = browser.find_element(By.CSS_SELECTOR, "#events tr.event")
        assert "bounced" in row.text
        assert row.find_element(By.CSS_SELECTOR, ".status").text == "200"
        assert [event.event_type for event in events] == ["bounced"]

        # The HTML body's script never runs (sandboxed iframe, no script sources).
        browser.get(f"{sandbox.url}messages/2")
        browser.find_element(By.TAG_NAME, "iframe")
        assert "hacked" not in browser.title


def test_inbound_form(sandbox: Sandbox, browser: Any) -> None:
    """Pick an ESP that signs its posts (Postal: RSA), post, see the app's 200."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with (
        override_settings(ANYMAIL=sandbox.settings("postal")),
        captured_events(inbound) as events,
    ):
        browser.get(sandbox.url)
        form = browser.find_element(By.CSS_SELECTOR, "form[action='/inbound']")
        Select(form.find_element(By.NAME, "esp")).select_by_visible_text("Postal")
        subject = form.find_element(By.NAME, "subject")
        subject.clear()
        subject.send_keys("<script>window.hacked=1</script>")
        click_and_load(browser, form.find_element(By.TAG_NAME, "button"))
        row = browser.find_element(By.CSS_SELECTOR, "#inbound ~ table tr.event")
        assert row.find_element(By.CSS_SELECTOR, ".status").text == "200"
        assert browser.execute_script("return window.hacked") is None
    [event] = events
    assert event.message.subject == "<script>window.hacked=1</script>"
