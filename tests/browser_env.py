"""Whether the headless-browser tests can run here (Debian's chromium + chromium-driver, selenium), and the
one place the Chromium options live (dash_duo's, through tests/conftest.py, and the export test's own driver)."""
import os
import shutil

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def browser_missing():
    """Why browser tests cannot run here, or None."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "chromedriver not on PATH (apt-get install chromium-driver)"
    try:
        import dash.testing  # noqa: F401
        import selenium  # noqa: F401
    except ImportError as e:
        return f"dash[testing] / selenium not installed ({e})"
    return None


FLAGS = ("--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def chrome_options(headless=False, window_size="1400,1000"):
    """Selenium ChromeOptions for Debian's chromium. ``headless``: add --headless=new (dash_duo adds its own
    from pytest's --headless; a driver built by hand asks here)."""
    from selenium.webdriver.chrome.options import Options
    options = Options()
    if os.path.exists(CHROMIUM):
        options.binary_location = CHROMIUM
    flags = FLAGS + (f"--window-size={window_size}",) + (("--headless=new",) if headless else ())
    for flag in flags:
        options.add_argument(flag)
    return options
