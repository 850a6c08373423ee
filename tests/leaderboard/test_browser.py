"""The built site in a real headless Chromium, loaded from file://: no console errors, sorting by a header click,
plots rendered, no script injected by a hostile model name; a screenshot is saved for a person to look at."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from leaderboard.site import build
from tests.leaderboard.conftest import HOSTILE, chromium_paths

pytestmark = pytest.mark.browser

BROWSER = chromium_paths()
if BROWSER is None:
    pytest.skip("chromium and chromedriver are not installed (run scripts/install_browser.sh)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")


@pytest.fixture(scope="module")
def driver():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = BROWSER[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(BROWSER[1]), options=opts)
    d.set_page_load_timeout(30)
    yield d
    d.quit()


def _column_values(d, table_id: str, index: int) -> list[str]:
    return d.execute_script(
        "return Array.from(document.getElementById(arguments[0]).tBodies[0].rows)"
        ".map(r => r.cells[arguments[1]].getAttribute('data-v'));", table_id, index)


def _header_index(d, table_id: str, key: str) -> int:
    return d.execute_script(
        "return Array.from(document.getElementById(arguments[0]).tHead.rows[0].cells)"
        ".findIndex(th => th.getAttribute('data-key') === arguments[1]);", table_id, key)


def _click_header(d, table_id: str, index: int) -> None:
    from selenium.webdriver.common.by import By

    th = d.find_element(By.ID, table_id).find_elements(By.CSS_SELECTOR, "thead th")[index]
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", th)
    th.find_element(By.TAG_NAME, "button").click()


def _errors(d) -> list[dict]:
    return [e for e in d.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def test_site_in_chromium(driver, results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build([str(results_dir)], out)
    driver.get((out / "index.html").resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    assert _errors(driver) == []
    # the hostile name is shown as text and ran nothing
    assert driver.execute_script("return window.__pwned === undefined && document.scripts.length") == 2
    links = driver.execute_script("return Array.from(document.querySelectorAll('#t-overall tbody a'))"
                                  ".map(a => a.textContent);")
    assert HOSTILE in links

    # sorting: NA descending on load; a click on "Steps" sorts ascending (fewest steps = best), again descending
    na = [float(v) for v in _column_values(driver, "t-overall", 1) if v]
    assert na == sorted(na, reverse=True)
    steps_col = _header_index(driver, "t-overall", "nfe")
    _click_header(driver, "t-overall", steps_col)
    assert [int(float(v)) for v in _column_values(driver, "t-overall", steps_col)] == [2, 4, 8, 100]
    _click_header(driver, "t-overall", steps_col)
    assert [int(float(v)) for v in _column_values(driver, "t-overall", steps_col)] == [100, 8, 4, 2]
    # a text column sorts A→Z; empty cells always last
    _click_header(driver, "t-overall", 0)
    names = _column_values(driver, "t-overall", 0)
    assert names == sorted(names)
    _click_header(driver, "t-overall", 1)  # NA: best first, the run without a value in this column last
    assert _column_values(driver, "t-overall", 1)[-1] == ""

    # plots: three inline SVGs of real size, with their bars and points
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('#plots svg')).map(s => {"
        "const r = s.getBoundingClientRect(); return [r.width, r.height, s.querySelectorAll('rect,circle').length];});")
    assert len(sizes) == 3 and all(w > 300 and h > 200 and n > 4 for w, h, n in sizes)
    bar_sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('#fig-na_by_task rect title')).map(t => {"
        "const r = t.parentNode.getBoundingClientRect(); return r.width * r.height;});")
    assert bar_sizes and all(a > 0 for a in bar_sizes)

    shots = Path(os.environ.get("LEADERBOARD_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(int(height) + 40, 8000))
    assert driver.save_screenshot(str(shots / "leaderboard_index.png"))

    # a model page: loads, no errors, its run table sorts too
    driver.set_window_size(1400, 1000)
    model_page = next((out / "models").glob("vdot-*.html"))
    driver.get(model_page.resolve().as_uri())
    assert _errors(driver) == []
    assert driver.execute_script("return document.querySelectorAll('table.sortable').length") == 2  # two runs
    na_col = 1
    _click_header(driver, "run-1-tasks", na_col)
    vals = [float(v) for v in _column_values(driver, "run-1-tasks", na_col)]
    assert vals == sorted(vals, reverse=True)
    assert driver.save_screenshot(str(shots / "leaderboard_model.png"))


def _decoded_images(d) -> list[list]:
    """Scroll every lazy image into view, wait for each to load, decode it; [src, naturalWidth, decoded] each."""
    return d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const imgs = Array.from(document.querySelectorAll('img'));"
        "imgs.forEach(i => i.scrollIntoView({block: 'center'}));"
        "Promise.all(imgs.map(i => i.decode().then(() => [i.getAttribute('src'), i.naturalWidth, true],"
        "  () => [i.getAttribute('src'), i.naturalWidth, false]))).then(done);")


def test_gallery_in_chromium(driver, tmp_path: Path) -> None:
    from tests.leaderboard.test_gallery import make_gallery_tree

    out = tmp_path / "site"
    build([str(make_gallery_tree(tmp_path, prompt=HOSTILE))], out)
    driver.set_script_timeout(30)
    driver.set_window_size(1400, 1000)
    driver.get((out / "tasks" / "depth.html").resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    lazy = driver.execute_script("return Array.from(document.images).map(i => i.loading)")
    assert lazy and set(lazy) == {"lazy"}
    imgs = _decoded_images(driver)
    assert len(imgs) == 5 and all(ok and w == 192 for _, w, ok in imgs), imgs
    assert _errors(driver) == []
    assert driver.execute_script("return window.__pwned === undefined")
    prompts = driver.execute_script("return Array.from(document.querySelectorAll('.prompt')).map(p => p.textContent)")
    assert prompts == [HOSTILE, HOSTILE]
    missing = driver.execute_script("return Array.from(document.querySelectorAll('.nomedia')).map(p => p.textContent)")
    assert missing == ["file not found"]
    shots = Path(os.environ.get("LEADERBOARD_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(shots / "leaderboard_gallery_task.png"))

    model_page = next((out / "models").glob("vdot-*.html"))
    driver.get(model_page.resolve().as_uri())
    imgs = _decoded_images(driver)
    # depth: 2 cases × (condition + 2 runs) − the missing output; outpainting: 000 with video + mask + 2 runs,
    # 001 (not in the suite) with its 2 runs
    assert len(imgs) == 5 + 4 + 2 and all(ok and w > 0 for _, w, ok in imgs), imgs
    assert _errors(driver) == []
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(int(height) + 40, 8000))
    assert driver.save_screenshot(str(shots / "leaderboard_gallery_model.png"))
