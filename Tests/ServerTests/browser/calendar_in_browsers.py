"""Two real browsers (Debian's chromium and chromium-driver, through Selenium) against a running
relplan serve: alice signs in and accepts her group's proposal, bob sees it go without reloading,
alice finds no accept button on HR's proposal and a forged POST is refused, a title with <script>
is shown as text; alice follows the calendar's link to a release's page and from there to its
window's night, bob reads that release page without owning it. Screenshots go to OUT.

    python3 calendar_in_browsers.py URL ALICE ALICE_PW BOB BOB_PW CRM_PROPOSAL HR_PROPOSAL OUT
Prints one JSON object; exits 1 when a check failed, 3 when Selenium or chromium is missing.
"""
import json
import os
import sys
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait as _WebDriverWait
except ImportError as error:
    print(f"selenium is missing: {error}", file=sys.stderr)
    sys.exit(3)



def WebDriverWait(driver, seconds, **options):
    """A wait whose condition may read an element of a page being replaced (a form's answer, the
    live page swapping itself in): a stale element is "not yet", not a failure."""
    options.setdefault("ignored_exceptions", (StaleElementReferenceException,))
    return _WebDriverWait(driver, seconds, **options)


url, alice, alice_pw, bob, bob_pw, crm_id, hr_id, out = sys.argv[1:9]
os.makedirs(out, exist_ok=True)
results = {}
failures = []


def check(name, ok, detail=""):
    results[name] = bool(ok)
    if not ok:
        failures.append(f"{name}: {detail}")


def browser():
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--lang=sv-SE"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(driver, login, password):
    driver.get(url + "/login")
    driver.find_element(By.NAME, "login").send_keys(login)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main.login button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.rstrip("/") == url.rstrip("/") or "/?" in d.current_url)


def full_page(driver, name):
    """A screenshot of the whole page, not just the window: the window grows to the page's height for it."""
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    page = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(max(page + 120, height), 6000))
    driver.save_screenshot(os.path.join(out, name))
    driver.set_window_size(width, height)


def proposals_text(driver):
    return driver.find_element(By.ID, "proposals").text


a = browser()
b = browser()
try:
    a.get(url + "/login")
    a.save_screenshot(os.path.join(out, "login.png"))
    sign_in(a, alice, alice_pw)
    a.get(url + "/?from=2030-03-01&to=2030-04-01")
    check("alice sees the calendar", a.find_elements(By.CSS_SELECTOR, "svg") and "Signed in as" in a.page_source)
    a.save_screenshot(os.path.join(out, "calendar-alice.png"))

    sign_in(b, bob, bob_pw)
    b.get(url + "/?from=2030-03-01&to=2030-04-01")
    WebDriverWait(b, 10).until(lambda d: d.find_element(By.ID, "live-status").text == "live")
    check("bob sees CRM's proposal", f"{crm_id}\n" in proposals_text(b) or proposals_text(b).count("CRM/R1") >= 1, proposals_text(b))

    # A title with <script> is text: no alert, the characters are on the page.
    body = a.find_element(By.TAG_NAME, "body").text + a.page_source
    check("a <script> title is text", "<script>alert(1)</script>" in a.find_element(By.TAG_NAME, "body").text
          or "&lt;script&gt;alert(1)&lt;/script&gt;" in a.page_source, "title not found as text")

    # alice has an accept button on CRM's proposal, none on HR's.
    check("alice may accept CRM's", a.find_elements(By.CSS_SELECTOR, f"form[action='/proposals/{crm_id}/accept'] button"))
    check("no accept button on HR's", not a.find_elements(By.CSS_SELECTOR, f"form[action='/proposals/{hr_id}/accept']"))
    # A forged POST with alice's own session and token for HR's proposal: the database refuses.
    token = a.find_element(By.CSS_SELECTOR, "input[name=_csrf]").get_attribute("value")
    status = a.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/proposals/' + arguments[0] + '/accept', {method: 'POST', body: '_csrf=' + encodeURIComponent(arguments[1]),
              headers: {'Content-Type': 'application/x-www-form-urlencoded'}, redirect: 'manual'})
          .then(r => done(r.status)).catch(e => done(String(e)));
        """, hr_id, token)
    check("a forged accept is 403", status == 403, f"status {status}")
    no_token = a.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/proposals/' + arguments[0] + '/accept', {method: 'POST', body: '',
              headers: {'Content-Type': 'application/x-www-form-urlencoded'}, redirect: 'manual'})
          .then(r => done(r.status)).catch(e => done(String(e)));
        """, crm_id)
    check("an accept without the CSRF token is 403", no_token == 403, f"status {no_token}")

    # alice accepts; bob's page changes without a reload.
    marker = b.execute_script("window.relplanNotReloaded = true; return true;")
    started = time.time()
    a.find_element(By.CSS_SELECTOR, f"form[action='/proposals/{crm_id}/accept'] button").click()
    WebDriverWait(a, 10).until(lambda d: "/proposals/" not in d.current_url)
    try:
        WebDriverWait(b, 5, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: "No proposals wait" in proposals_text(d) or
                                                      f"/proposals/{crm_id}" not in d.page_source and "CRM/R1" not in proposals_text(d))
        seconds = time.time() - started
        check("bob sees the move without reloading", b.execute_script("return window.relplanNotReloaded === true"), "the page reloaded")
        check("within two seconds", seconds < 2.5, f"{seconds:.2f} s")
        results["seconds_until_bob_saw_it"] = round(seconds, 2)
    except Exception as error:  # noqa: BLE001 - reported as a failed check
        check("bob sees the move without reloading", False, f"{error}: {proposals_text(b)}")
    b.save_screenshot(os.path.join(out, "calendar-bob-after.png"))
    a.get(url + "/?from=2030-03-01&to=2030-04-01")
    a.save_screenshot(os.path.join(out, "calendar-alice-after.png"))
    full_page(a, "calendar-alice-full.png")

    # From the calendar to a release's page, and from there to its window's night: links, no script.
    links = a.find_elements(By.CSS_SELECTOR, "#releases a[href='/releases/CRM/R1']")
    check("the calendar links the release", links, "no link to /releases/CRM/R1")
    a.set_window_size(1400, 1400)
    if links:
        links[0].click()
        WebDriverWait(a, 10).until(lambda d: "/releases/CRM/R1" in d.current_url)
        text = a.find_element(By.TAG_NAME, "body").text
        check("the release page shows the title as text", "Våren <script>alert(1)</script>" in text, text[:300])
        check("the release page says alice plans it", "You plan this release" in text, text[:300])
        full_page(a, "release-alice.png")
        windows = a.find_elements(By.CSS_SELECTOR, "a[href^='/windows/']")
        check("the release page links its window", windows, "no window link")
        if windows:
            windows[0].click()
            WebDriverWait(a, 10).until(lambda d: "/windows/" in d.current_url)
            text = a.find_element(By.TAG_NAME, "body").text
            check("the window page has go/no-go", "GO" in text and "the night's plan" in text, text[:300])
            full_page(a, "window-alice.png")
    a.get(url + "/conflicts")
    a.save_screenshot(os.path.join(out, "conflicts-alice.png"))
    a.get(url + "/import")
    a.save_screenshot(os.path.join(out, "import-alice.png"))
    # The browser's own multipart form: paste, preview (nothing written), then import the same bytes.
    a.find_element(By.ID, "csv").send_keys("group,plan,release,release_title,window\nCRM,CRM-2030,R5,Höstens release,SW-2030-03-30\n")
    a.find_element(By.CSS_SELECTOR, "form.import button[type=submit]").click()
    WebDriverWait(a, 10).until(lambda d: "Dry run of the import" in d.find_element(By.TAG_NAME, "body").text)
    text = a.find_element(By.TAG_NAME, "body").text
    check("the import page previews the pasted file", "dry run of upload.csv" in text and "CRM/R5" in text, text[:400])
    full_page(a, "import-preview-alice.png")
    a.find_element(By.CSS_SELECTOR, "form.import-run button[type=submit]").click()
    WebDriverWait(a, 10).until(lambda d: "/import/run" in d.current_url)
    text = a.find_element(By.TAG_NAME, "body").text
    check("the import page imports what it previewed", "imported upload.csv: 1 row, 1 release created" in text, text[:400])
    a.save_screenshot(os.path.join(out, "import-done-alice.png"))
    b.set_window_size(1400, 1400)
    b.get(url + "/releases/CRM/R1")
    check("bob reads CRM's release without owning it", "Read-only for you" in b.find_element(By.TAG_NAME, "body").text)
    full_page(b, "release-bob.png")
finally:
    a.quit()
    b.quit()

print(json.dumps({"results": results, "failures": failures}))
sys.exit(1 if failures else 0)
