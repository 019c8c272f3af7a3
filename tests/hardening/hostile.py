"""Hostile values, and a check that a page renders them as text and never as markup."""

from html.parser import HTMLParser
from typing import Any

from tests.fixtures import attention_example

SCRIPT = '<script>alert("xss")</script>'
ATTRIBUTE = "\" onmouseover='alert(1)' data-x=\""
IMAGE = "<img src=x onerror=alert(1)>"
LINK = "javascript:alert(1)"
RTL = "\u202eGNP.exe\u202c שלום مرحبا"
EMOJI = "🚀 Deal won 👩🏽‍💻🇫🇷"
NUL = "before\x00after"
HOSTILE_TEXTS = [SCRIPT, ATTRIBUTE, IMAGE, LINK, RTL, EMOJI]
# Markup that must never reach a page unescaped, whatever field carried it.
RAW_MARKERS = ["<script>alert", "<img src=x", "onmouseover='alert", 'onmouseover="alert']


def hostile(label: str) -> str:
    """A text carrying every attack at once, tagged so a test can find where it went."""
    return f"{label} {SCRIPT}{ATTRIBUTE}{IMAGE} {RTL} {EMOJI}"


def hostile_conversation(conversation_id: str, owner_uuid: str, team_uuid: str) -> dict:
    """The documented conversation example with a hostile value in every text it shows."""
    resource = attention_example("confirm-response.json")
    resource["id"] = conversation_id
    attributes = resource["attributes"]
    attributes.update(
        uuid=conversation_id,
        title=hostile("Title"),
        userUUID=owner_uuid,
        teamUUID=team_uuid,
        createdAt="2099-01-01T10:00:00Z",
        crmExportStatus=hostile("Status")[:50],
        externalIntelligenceOpportunityID=hostile("OppId")[:150],
        externalOpportunity={"uuid": hostile("OppUuid")[:150], "title": hostile("OppTitle")},
    )
    people = [
        {
            "id": "p1",
            "email": f"{SCRIPT}@example.com",
            "name": hostile("Participant"),
            "organizer": True,
            "status": hostile("PStatus"),
        }
    ]
    attributes["participants"] = people
    # Another person (the page lists each person once, merged by email).
    attendee = {**people[0], "id": "p2", "email": f"invited-{SCRIPT}@example.com"}
    attributes["attendees"] = [{**attendee, "name": hostile("Attendee")}]
    attributes["scorecardResults"] = [
        {
            "uuid": "sc1",
            "title": hostile("Scorecard"),
            "items": [
                {
                    "uuid": "sci1",
                    "title": hostile("ScoreItem"),
                    "description": hostile("ScoreDescription"),
                    "evidences": [hostile("Evidence")],
                    "numericResult": {"score": 3, "min": 0, "max": 5},
                }
            ],
            "summary": {"averageScore": 60, "min": 0, "max": 100, "summaryText": hostile("Sum")},
        }
    ]
    attributes["linkedCrmRecords"] = [
        {"id": hostile("RecordId"), "code": hostile("RecordCode")},
        {"id": f"006{SCRIPT}", "code": "Opportunity"},
    ]
    attributes["externalAccounts"] = [{"id": hostile("AccountId"), "code": "Account"}]
    attributes["externalContacts"] = [{"id": hostile("ContactId"), "code": "Contact"}]
    items = {
        "next_steps": {"value": hostile("ItemValue"), "title": hostile("ItemTitle")},
        "stage": {
            "value": hostile("Option A"),
            "title": "Stage",
            "options": [hostile("Option A"), hostile("Option B")],
        },
        "amount": {"value": 48000, "title": hostile("Amount")},
        "decision_makers": {"value": [hostile("Person1"), EMOJI], "title": "Decision makers"},
        "raw_json": {"value": {"note": hostile("Json")}, "title": "Notes"},
    }
    attributes["extractedIntelligence"] = {
        key: {
            "id": f"intel-{key}",
            "key": key,
            "category": "CRM",
            "refreshing": False,
            "options": None,
            "source": "ai",
            "scope_insight": None,
            **spec,
        }
        for key, spec in items.items()
    }
    attributes["confirmedExtractedIntelligence"] = {}
    return resource


class _Markup(HTMLParser):
    """Collects what a browser would treat as active content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        source = dict(attrs).get("src") or ""
        if tag == "script":
            # Same-origin files only (the admin's too); JSON data blocks are not run.
            if not source.startswith("/") and dict(attrs).get("type") != "application/json":
                self.problems.append(f"inline or foreign script: {attrs}")
            self.in_script = not source
        if tag == "img" and not source.startswith("/static/"):
            self.problems.append(f"<img> {attrs}")
        if tag in {"iframe", "object", "embed", "base"}:
            self.problems.append(f"<{tag}> {attrs}")
        for name in names:
            if name.startswith("on") or name in {"data-x", "srcdoc"}:
                self.problems.append(f"attribute {name} on <{tag}>")
        # The app's own buttons may post elsewhere (Cancel discards a draft), but only to
        # a path of the app itself.
        formaction = dict(attrs).get("formaction")
        if formaction is not None and not formaction.startswith("/"):
            self.problems.append(f"formaction={formaction!r} on <{tag}>")
        for name, value in attrs:
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"{name}={value!r} on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and "<" in data:
            self.problems.append(f"markup in a script block: {data[:80]!r}")


def assert_inert(html: str, *, shown: list[str] = ()) -> None:
    """Nothing in `html` is active markup that came from data, and every label in
    `shown` was rendered (escaped), so the check is not passing on an empty page."""
    for marker in RAW_MARKERS:
        assert marker not in html, f"unescaped {marker!r}"
    parser = _Markup()
    parser.feed(html)
    assert parser.problems == [], parser.problems
    for label in shown:
        assert f"{label} &lt;script&gt;alert(" in html, f"{label} is not shown escaped"


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*strings_in(key), *strings_in(item))]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []
