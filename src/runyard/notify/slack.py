"""Slack, through the Web API's chat.postMessage with a bot token."""

from __future__ import annotations

from runyard.notify.base import DeliveryFailed, Message


class SlackChannel:
    name = "slack"

    def __init__(self, bot_token: str, api_url: str, timeout_seconds: float = 10.0) -> None:
        self._token = bot_token
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout_seconds

    def __repr__(self) -> str:  # the token stays out of any log line that shows a channel
        return f"SlackChannel(api_url={self._api_url!r})"

    def send(self, recipient: str, message: Message) -> None:
        # Imported when a message goes out: a server without Slack notifications never
        # needs httpx (nor the modules of its own CLI, Pygments among them).
        import httpx

        try:
            answer = httpx.post(
                f"{self._api_url}/chat.postMessage",
                headers={"Authorization": f"Bearer {self._token}"},
                json={"channel": recipient, "text": f"*{message.subject}*\n{message.text}"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"Slack API: {type(error).__name__}: {error}") from None
        if answer.status_code != 200:
            raise DeliveryFailed(f"Slack API answered HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            raise DeliveryFailed("Slack API answered something that is not JSON") from None
        # Slack answers 200 with {"ok": false, "error": "channel_not_found"} on failure.
        if not isinstance(body, dict) or body.get("ok") is not True:
            reason = body.get("error") if isinstance(body, dict) else None
            raise DeliveryFailed(f"Slack API refused the message: {reason or 'unknown error'}")
