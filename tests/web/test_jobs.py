"""The job list in Chromium: the async jobs this browser started, with phase, run time, result
(shown again or downloaded), cancel and delete; a synchronous query that takes long goes on as a
job by itself, and a reload follows it instead of losing it."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from playwright.sync_api import Locator, Page

from tests.support.browser import GuardedPage
from tests.web.test_portal import OBSCORE_QUERY, SLOW, row_count, run_adql, wait_for_answer

GOES_ON = "['QUEUED', 'EXECUTING'].includes(document.getElementById('job-phase').dataset.phase)"


def remembered(page: Page) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = json.loads(page.evaluate("localStorage.getItem('dalserver.jobs') || '[]'"))
    return jobs


def job_row(page: Page, job_id: str) -> Locator:
    return page.get_by_role("table", name="Your jobs").locator(f"tr[data-job='{job_id}']")


def test_an_async_job_is_listed_with_phase_run_time_and_its_result(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, OBSCORE_QUERY, mode="async")
    wait_for_answer(page)
    [job] = remembered(page)
    page.get_by_role("tab", name="Jobs").click()
    row = job_row(page, job["id"])
    row.locator("td.phase", has_text="COMPLETED").wait_for(timeout=30_000)
    assert re.fullmatch(r"\d+\.\d s", row.locator("td.runtime").inner_text())
    assert row.locator("td.query").get_attribute("title") == OBSCORE_QUERY
    portal.screenshot("jobs")
    # its result, again in the grid and as a file
    page.get_by_role("button", name=f"Show the result of job {job['id']}").click()
    wait_for_answer(page)
    assert row_count(page) == 20
    href = row.get_by_role("link", name="Download").get_attribute("href") or ""
    assert len(httpx.get(href, timeout=30).json()["data"]) == 20
    # delete: gone from the list and from the server
    page.get_by_role("button", name=f"Delete job {job['id']}").click()
    row.wait_for(state="detached")
    assert httpx.get(job["url"], timeout=30).status_code == 404 and remembered(page) == []
    portal.expect_clean()


def test_a_long_sync_query_goes_on_as_a_job_that_a_reload_does_not_lose(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, SLOW)  # now (sync): after a few seconds without an answer, it becomes a job
    # queued behind other jobs of the shared test server, or running: either way it goes on
    page.wait_for_function(GOES_ON, timeout=60_000)
    assert "goes on as an async job" in page.locator("#results-status").inner_text()
    [job] = remembered(page)
    assert job["query"] == SLOW and job["current"] is True
    portal.screenshot("switched-to-a-job")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    # the page follows the job it was waiting for, rather than running the query again
    page.wait_for_function(GOES_ON, timeout=60_000)
    assert [j["id"] for j in remembered(page)] == [job["id"]]  # no second job
    assert page.get_by_role("button", name="Cancel", exact=True).is_enabled()
    page.get_by_role("tab", name="Jobs").click()
    row = job_row(page, job["id"])
    row.locator("td.phase", has_text=re.compile("QUEUED|EXECUTING")).wait_for(timeout=30_000)
    page.get_by_role("button", name=f"Cancel job {job['id']}").click()
    row.locator("td.phase", has_text="ABORTED").wait_for(timeout=30_000)
    assert httpx.get(f"{job['url']}/phase", timeout=30).text.strip() == "ABORTED"
    page.wait_for_selector("#results-error:not([hidden])", timeout=30_000)
    assert "cancelled" in page.locator("#results-error").inner_text()
    portal.expect_clean()


def test_jobs_the_server_destroyed_are_forgotten(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, OBSCORE_QUERY, mode="async")
    wait_for_answer(page)
    [job] = remembered(page)
    assert httpx.delete(job["url"], timeout=30, follow_redirects=False).status_code in (200, 303)
    page.get_by_role("tab", name="Jobs").click()
    page.locator("#jobs-status", has_text="removed by the server").wait_for(timeout=30_000)
    assert remembered(page) == [] and job_row(page, job["id"]).count() == 0
    portal.expect_clean(allowed_errors=("status of 404",))
