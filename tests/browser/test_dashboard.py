"""The dashboard in a real browser (issue 13): Debian's Chromium, headless, driven by Playwright against
``pipelinejobs local`` with jobs in several states.

Playwright's own browser download cannot work on these machines: it drives the system's Chromium
(``/usr/bin/chromium``, which scripts/bootstrap installs when it is missing). Each test saves a screenshot under
``.cache/dashboard/`` (CI keeps ``.cache/`` as its artefacts).
"""

from __future__ import annotations

import json
import re
import time
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from localstack_process import Stack, running_stack

import pipelinejobs as pj
from pipelinejobs import fsm, tokens

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / ".cache" / "dashboard"
#: Held in a job's data: if the page ever put data into the DOM as HTML, one of these would run.
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
WAIT_MS = 20_000

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium; scripts/bootstrap installs it as root)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("dashboard-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def jobs(stack: Stack) -> dict[str, pj.PipelineJob]:
    """Jobs of two pipelines, moved by events through the SDK pointed at the stack's table: created, running,
    finished (twice), failed with a refused event after it, and one whose data holds markup."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stack.env.items():
            patch.setenv(name, value)
        rnaseq = pj.register_pipeline(f"rnaseq-{uuidlib.uuid4().hex[:4]}", components=["align"])
        qc = pj.register_pipeline(f"qc-{uuidlib.uuid4().hex[:4]}", components=["fastqc"])

        def job(pipeline, n: int, **data) -> pj.PipelineJob:
            return pj.PipelineJob(pipeline.uuid, {"n": n, **data}).setup()

        made = {"created": job(rnaseq, 1), "running": job(rnaseq, 2).run({"host": "node7"}),
                "finished": job(rnaseq, 3).run().finish(), "finished_qc": job(qc, 4).run().finish(),
                "failed": job(qc, 5).run().fail({"reason": "out of memory"}),
                "hostile": job(qc, 6, note=HOSTILE).run().update({"progress": HOSTILE})}
        with pytest.raises(pj.errors.InvalidTransition):
            made["failed"].finish({"late": True})  # refused: recorded with its reason
        return made


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request) -> Iterator[object]:
    """A fresh page whose console errors and uncaught exceptions are collected in ``page.problems``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    opened.problems = []
    opened.on("console", lambda m: m.type == "error" and opened.problems.append(f"console: {m.text}"))
    opened.on("pageerror", lambda e: opened.problems.append(f"pageerror: {e}"))
    opened.on("response", lambda r: r.status >= 400 and opened.problems.append(f"{r.status}: {r.url}"))
    yield opened
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def viewer(stack: Stack, **kwargs) -> str:
    return tokens.viewer_token(stack.env["PIPELINEJOBS_TOKEN_SECRET"], **kwargs)


def open_ui(page, stack: Stack, token: str, route: str = "") -> None:
    """Open /ui with ``#token=`` (as a link an admin hands out), then go to ``route`` (a ``#/...`` fragment)."""
    page.goto(f"{stack.env['PIPELINEJOBS_API_URL']}/ui#token={token}")
    page.wait_for_selector("#overview-states .card")
    if route:
        page.evaluate("route => { location.hash = route }", route)


def jobs_matching(page) -> int:
    summary = page.wait_for_selector("#jobs-summary:has-text('match')").text_content()
    return int(re.match(r"(\d+) job", summary)[1])


def test_the_stack_prints_the_dashboards_address(stack):
    assert f"dashboard       {stack.env['PIPELINEJOBS_API_URL']}/ui" in stack.output.read_text()


def test_the_overviews_counts_match_the_job_table(page, stack, jobs):
    open_ui(page, stack, viewer(stack))
    cards = {card.get_attribute("data-state"): int(card.query_selector(".n").text_content())
             for card in page.query_selector_all("#overview-states .card")}
    assert cards["total"] >= len(jobs) and cards["FINISHED"] >= 2 and cards["FAILED"] >= 1
    for state, count in cards.items():
        page.click(f"#overview-states .card[data-state='{state}']")
        page.wait_for_selector("#jobs-summary")
        assert jobs_matching(page) == count, state
        if state != "total":
            assert page.locator("#jobs tbody tr").count() == count
        page.go_back()
        page.wait_for_selector("#overview-states .card")
    assert page.locator("#overview-pipelines tbody tr").count() >= 2
    assert not page.problems


def test_filtering_by_state_shows_only_those_jobs(page, stack, jobs):
    open_ui(page, stack, viewer(stack), "#/jobs")
    page.wait_for_selector("#jobs tbody tr")
    page.select_option("#state-filter", "FINISHED")
    page.wait_for_function("() => location.hash.includes('state=FINISHED')")
    page.wait_for_selector("#jobs-summary:has-text('match')")
    page.wait_for_function("() => [...document.querySelectorAll('#jobs tbody tr .state')]"
                           ".every(b => b.textContent === 'FINISHED')")
    shown = {row.get_attribute("data-uuid") for row in page.query_selector_all("#jobs tbody tr")}
    assert {jobs["finished"].uuid, jobs["finished_qc"].uuid} <= shown
    assert not shown & {jobs[name].uuid for name in ("created", "running", "failed", "hostile")}
    assert not page.problems


def test_a_jobs_page_shows_its_history_in_order_with_the_refused_event_marked(page, stack, jobs):
    failed = jobs["failed"]
    open_ui(page, stack, viewer(stack), f"#/jobs/{failed.uuid}")
    page.wait_for_selector("#history tbody tr")
    rows = page.query_selector_all("#history tbody tr")
    assert [int(row.get_attribute("data-seq")) for row in rows] == [1, 2, 3, 4]
    assert [row.query_selector("td:nth-child(3)").text_content() for row in rows] == ["create", "run", "fail", "finish"]
    refused = rows[-1]
    assert refused.get_attribute("class") == "refused"
    assert refused.query_selector(".refused-mark").text_content() == "refused"
    assert "not allowed from FAILED" in refused.text_content()
    assert all(row.get_attribute("class") == "applied" for row in rows[:-1])
    assert page.text_content("#job-uuid") == failed.uuid
    assert "shown to an admin token" in page.text_content("dl.fields")
    assert not page.problems


def test_markup_in_a_jobs_data_is_shown_as_text_and_never_run(page, stack, jobs):
    hostile = jobs["hostile"]
    open_ui(page, stack, viewer(stack), f"#/jobs/{hostile.uuid}")
    page.wait_for_selector("#job-data")
    assert json.loads(page.text_content("#job-data"))["note"] == HOSTILE  # shown as the text it is
    assert "<script>window.__pwned = 1</script>" in page.text_content("#history")  # the update's data
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("main script, main img").count() == 0
    assert not page.problems


def test_a_job_page_refreshes_by_itself_when_the_job_moves(page, stack, jobs):
    running = jobs["running"]
    open_ui(page, stack, viewer(stack), f"#/jobs/{running.uuid}")
    page.wait_for_selector("#history tbody tr")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stack.env.items():
            patch.setenv(name, value)
        pj.get_job(running.uuid).finish({"took": "a while"})
    page.wait_for_selector("h2 .state-FINISHED", timeout=30_000)  # no reload: the page polls while a job is live
    assert page.locator("#history tbody tr").count() == 3
    assert not page.problems


def test_an_invalid_token_shows_no_job_data(page, stack, jobs):
    forged = f"{int(time.time() // 3600) + 5:08x}" + "0" * 40  # a viewer token's form, unexpired, not signed
    page.goto(f"{stack.env['PIPELINEJOBS_API_URL']}/ui#token={forged}")
    page.wait_for_selector(".message.error")
    assert "not a valid viewer or admin token" in page.text_content("main")
    content = page.content()
    assert not any(job.uuid in content or job.uuid[:8] in content for job in jobs.values())
    page.evaluate(f"() => {{ location.hash = '#/jobs/{jobs['failed'].uuid}' }}")
    page.wait_for_selector(".message.error")
    assert jobs["failed"].uuid not in page.text_content("main")
    assert "#token" not in page.url  # taken out of the address once read


def test_an_expired_token_is_told_so_and_an_unknown_job_gets_a_not_found_view(page, stack, jobs):
    expired = viewer(stack, hours=1, at=time.time() - 3 * 3600)
    page.goto(f"{stack.env['PIPELINEJOBS_API_URL']}/ui#token={expired}")
    page.wait_for_selector(".message.error")
    assert "expired" in page.text_content("main")
    page.fill("#token", tokens.admin_token(stack.env["PIPELINEJOBS_TOKEN_SECRET"]))
    page.click("#token-form button")
    page.wait_for_selector("#overview-states .card")
    unknown = str(uuidlib.uuid4())
    page.evaluate(f"() => {{ location.hash = '#/jobs/{unknown}' }}")
    page.wait_for_selector("h2:has-text('Job not found')")
    assert unknown in page.text_content("main")


def test_the_state_machine_diagram(page, stack, jobs):
    open_ui(page, stack, viewer(stack), "#/fsm")
    page.wait_for_selector("#fsm")
    states = {g.get_attribute("data-state") for g in page.query_selector_all("#fsm g.node")}
    assert states == set(fsm.STATES)
    assert page.locator("#fsm path.edge").count() > 10
    assert not page.problems



def test_a_workflows_graph_shows_its_nodes_by_state(page, stack):
    """A workflow run by the stack (its release consumer and the job state machine): a finishes, b fails, c
    never runs; the page draws each node coloured and labelled by its state, with its counters and job links."""
    from pipelinejobs import workflows

    with pytest.MonkeyPatch.context() as patch:
        for name, value in stack.env.items():
            patch.setenv(name, value)
        task = {"launcher": "local", "max_attempts": 1, "poll": {"first": 1, "factor": 1, "cap": 1}}
        suffix = uuidlib.uuid4().hex[:4]
        pj.register_pipeline(f"ok-{suffix}", task={**task, "params": {"command": "true"}})
        pj.register_pipeline(f"bad-{suffix}", task={**task, "params": {"command": "exit 3"}})
        submitted = workflows.submit({"name": f"graph-{suffix}", "jobs": {
            "a": {"pipeline": f"ok-{suffix}"}, "b": {"pipeline": f"bad-{suffix}", "after": ["a"]},
            "c": {"pipeline": f"ok-{suffix}", "after": ["b"]}}})
        deadline = time.monotonic() + 120
        while (done := workflows.get(submitted.uuid)).state == "RUNNING" and time.monotonic() < deadline:
            time.sleep(1)
    assert done.state == "FAILED", done
    open_ui(page, stack, viewer(stack), "#/workflows")
    page.click(f"#workflow-table tr[data-uuid='{submitted.uuid}'] a")
    page.wait_for_selector("#workflow-graph")
    nodes = {g.get_attribute("data-node"): g for g in page.query_selector_all("#workflow-graph g.node")}
    assert {name: g.get_attribute("data-state") for name, g in nodes.items()} == {
        "a": "finished", "b": "failed", "c": "never_run"}
    assert nodes["a"].query_selector("text.node-label").text_content() == "a: finished"
    assert nodes["b"].query_selector("rect").get_attribute("class") == "wf-failed"
    assert page.locator("#workflow-graph path.edge").count() == 2
    counts = {card.get_attribute("data-state"): int(card.query_selector(".n").text_content())
              for card in page.query_selector_all("#workflow-counts .card")}
    assert counts == {"FINISHED": 1, "FAILED": 1}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "workflow-graph.png"), full_page=True)
    page.click(f"#workflow-nodes tr[data-node='b'] a[href='#/jobs/{done.jobs['b'][0]}']")
    page.wait_for_selector("#history")
    assert page.text_content("#job-uuid") == done.jobs["b"][0]
    assert not page.problems
