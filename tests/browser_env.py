"""Whether the headless-browser tests can run here (Debian's chromium + chromium-driver, selenium)."""
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
