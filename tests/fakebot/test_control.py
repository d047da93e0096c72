"""The HTTP control API drives users of a standalone server from another process."""

from __future__ import annotations

import aiohttp

from fakebot import FakeBotApi
from fakebot.ptb import polling
from fakebot.sample_bot import build_sample_application


async def test_users_can_be_driven_over_http(api: FakeBotApi) -> None:
    async with polling(build_sample_application(api)), aiohttp.ClientSession(api.url) as http:
        async with http.post(
            "/_fake/users/1001/messages", json={"text": "/start", "first_name": "Ada"}
        ) as response:
            assert response.status == 200
            (menu,) = (await response.json())["messages"]
        assert menu["text"] == "Hello Ada!"
        assert menu["html"] == "Hello <b>Ada</b>!"
        assert menu["buttons"] == [["Symptom check"], ["Reminders", "About"]]

        async with http.post("/_fake/users/1001/taps", json={"label": "Symptom check"}) as tap:
            (edited,) = (await tap.json())["messages"]
        assert (edited["text"], edited["edits"]) == ("Where is the pain?", 1)

        async with http.post("/_fake/users/1001/taps", json={"label": "Knee"}) as missing:
            assert missing.status == 404
            assert "'Calf', 'Thigh'" in (await missing.json())["error"]
        async with http.post("/_fake/users/1001/messages", json={"txt": "typo"}) as bad:
            assert bad.status == 400
            assert await bad.json() == {"error": "'text' is required"}

        async with http.get("/_fake/users/1001/messages") as listing:
            assert [m["text"] for m in (await listing.json())["messages"]] == [
                "Where is the pain?"
            ]
        async with http.post("/_fake/faults", json={"rate_limits": True, "random_errors": 0}):
            pass
        async with http.get("/_fake/stats") as stats:
            counts = await stats.json()
        assert counts["by_method"]["sendMessage"] == 1
        assert counts["by_method"]["answerCallbackQuery"] == 1
        assert counts["rate_limit_violations"] == 0
