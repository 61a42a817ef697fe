"""The drawing page in headless Chromium: digits drawn with mouse and touch events, as a user draws them.

Skipped where Chromium, chromedriver or selenium is missing, unless REQUIRE_BROWSER is set
(as .ci/run does, after installing them): then a missing browser is a failure.
"""

import base64
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

import browser
from digits import preprocess
from conftest import run_script

why_not = browser.missing()
if why_not and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError(f"REQUIRE_BROWSER is set but {why_not}")
pytestmark = pytest.mark.skipif(why_not is not None, reason=why_not or "")


@pytest.fixture(scope="module")
def page(trained_model):
    """A browser showing the drawing page of a running server."""
    with browser.serving(trained_model) as (_, url), browser.chromium() as driver:
        driver.get(url)
        yield driver
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], errors  # no script errors, no failed requests


def canvas_pixels(driver, canvas_id):
    """The RGBA pixels of a canvas on the page, as an array (height, width, 4)."""
    data_url = driver.execute_script(f"return document.getElementById('{canvas_id}').toDataURL('image/png')")
    png = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def clear(driver):
    driver.find_element("id", "clear").click()
    return browser.wait_for_answer(driver, state="empty")


@pytest.mark.parametrize("digit", sorted(browser.DIGITS))
def test_a_digit_drawn_with_the_mouse_is_read(page, digit):
    clear(page)
    browser.draw(page, browser.DIGITS[digit])
    shown, probabilities = browser.wait_for_answer(page)
    assert shown == str(digit)
    assert int(np.argmax(probabilities)) == digit and abs(sum(probabilities) - 1) < 1e-4
    best = page.find_element("css selector", "#bars li.best")
    assert best.text.split()[0] == str(digit)


def test_a_digit_drawn_with_a_finger_is_read(page):
    clear(page)
    browser.draw(page, browser.DIGITS[4], pointer="touch")
    assert browser.wait_for_answer(page)[0] == "4"


def test_the_page_shows_what_predict_image_says_of_the_same_drawing(page, tmp_path, trained_model):
    clear(page)
    browser.draw(page, browser.DIGITS[2])
    shown, probabilities = browser.wait_for_answer(page)
    drawing = tmp_path / "drawing.png"
    Image.fromarray(canvas_pixels(page, "pad")).save(drawing)
    result = run_script("predict_image.py", "--json", "--model", trained_model, drawing, cwd=tmp_path)
    printed = json.loads(result.stdout)
    assert shown == str(printed["digit"])
    assert probabilities == printed["probabilities"]
    shown_input = canvas_pixels(page, "input")[:, :, 0] / 255
    X = preprocess.to_mnist(preprocess.load_image(drawing))
    assert np.abs(shown_input - X).max() <= 1 / 255  # the same 28x28 input, to the grey level


def test_the_hidden_layer_is_shown(page):
    clear(page)
    browser.draw(page, browser.DIGITS[7])
    browser.wait_for_answer(page)
    caption = page.find_element("id", "hidden-caption").text
    assert "hidden units are active" in caption and "of 128" in caption
    assert canvas_pixels(page, "hidden")[:, :, :3].max() == 255  # the most active unit is white


def test_clear_and_escape_empty_the_page(page):
    clear(page)
    for how in ("button", "escape"):
        browser.draw(page, browser.DIGITS[1])
        assert browser.wait_for_answer(page)[0] == "1"
        if how == "button":
            page.find_element("id", "clear").click()
        else:
            page.find_element("tag name", "body").send_keys("\ue00c")  # Escape
        shown, probabilities = browser.wait_for_answer(page, state="empty")
        assert shown == "\u2013" and probabilities == []
        assert canvas_pixels(page, "pad")[:, :, :3].min() == 255  # all white
        assert canvas_pixels(page, "input")[:, :, :3].max() == 0  # all black


def test_the_model_is_named_on_the_page(page, trained_model):
    text = page.find_element("id", "model").text
    assert str(trained_model) in text and "784-128-10" in text and "% right on MNIST" in text


def test_a_stopped_server_is_reported_on_the_page(trained_model):
    with browser.serving(trained_model) as (process, url), browser.chromium() as driver:
        driver.get(url)
        process.terminate()
        process.wait(timeout=10)
        browser.draw(driver, browser.DIGITS[7])
        browser.wait_for_answer(driver, state="error")
        assert "is predict_image.py --serve still running?" in driver.find_element("id", "status").text


def test_a_number_drawn_on_the_page_is_read_digit_by_digit(page):
    clear(page)
    browser.draw(page, browser.NUMBERS["47"]())
    shown, _ = browser.wait_for_answer(page)
    assert shown == "47"
    strip = page.find_element("id", "digits")
    captions = [c.text for c in strip.find_elements("css selector", "figcaption")]
    assert strip.is_displayed() and [c.split()[0] for c in captions] == ["4", "7"]
    inputs = [page.execute_script("return arguments[0].getContext('2d').getImageData(0, 0, 28, 28).data", canvas)
              for canvas in strip.find_elements("css selector", "canvas")]
    assert len(inputs) == 2 and all(max(data[::4]) > 200 for data in inputs)  # each digit's input is drawn
    why = page.find_element("id", "why")
    assert why.get_attribute("data-digit") == "4" and "digit 1 of the number" in page.find_element("id", "why-digit").text
    first_map = canvas_pixels(page, "why-map")
    strip.find_elements("css selector", "figure")[1].click()  # why the second digit
    assert why.get_attribute("data-digit") == "7" and "digit 2 of the number" in page.find_element("id", "why-digit").text
    assert not np.array_equal(canvas_pixels(page, "why-map"), first_map)
    clear(page)
    assert not page.find_element("id", "digits").is_displayed()


@pytest.mark.parametrize("number", ["17", "04", "73"])
def test_digits_drawn_close_together_or_touching_are_read_apart(page, number):
    clear(page)
    browser.draw(page, browser.NUMBERS[number]())
    assert browser.wait_for_answer(page)[0] == number
    captions = page.find_element("id", "digits").find_elements("css selector", "figcaption")
    assert [c.text.split()[0] for c in captions] == list(number)


def test_why_shows_what_each_pixel_adds_and_a_click_changes_the_rival(page, trained_model):
    clear(page)
    browser.draw(page, browser.DIGITS[7])
    shown, probabilities = browser.wait_for_answer(page)
    assert shown == "7"
    why = page.find_element("id", "why")
    second = sorted(range(10), key=lambda d: -probabilities[d])[1]  # the lower digit of a tie, as the page
    assert (why.get_attribute("data-digit"), why.get_attribute("data-rival")) == ("7", str(second))
    for canvas in ("why-map", "why-against", "why-template"):
        pixels = canvas_pixels(page, canvas)[:, :, :3].astype(int)
        assert (pixels[:, :, 0] > pixels[:, :, 2] + 60).any()  # red: pushes towards 7
        assert (pixels[:, :, 2] > pixels[:, :, 0] + 60).any()  # blue: against
    against_second = canvas_pixels(page, "why-against")
    rival = 1 if second != 1 else 2
    page.find_element("css selector", f"#rivals button:nth-child({rival + 1})").click()
    assert why.get_attribute("data-rival") == str(rival)
    assert page.find_element("css selector", "#rivals button[aria-pressed=true]").text == str(rival)
    assert not np.array_equal(canvas_pixels(page, "why-against"), against_second)
    assert f"why 7 rather than {rival}" in page.find_element("id", "why-against-caption").text
    assert page.find_element("css selector", "#rivals button:nth-child(8)").get_attribute("disabled")
    sums = page.find_element("id", "why-sums").text
    assert sums.startswith("Z2[7] = ") and f"Z2[{rival}] = " in sums
