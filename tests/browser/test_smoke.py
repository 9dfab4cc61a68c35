def test_admin_login_page_renders_in_chromium(live_server, page, screenshot_dir):
    page.goto(live_server.url + "/admin/login/")
    assert "Log in" in page.title()
    page.screenshot(path=screenshot_dir / "smoke-admin-login.png")
