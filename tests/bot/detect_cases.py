"""Hand-written messages typical of product and developer-tool communities.

Every message below was made up for this file; none is copied from real chat. They
imitate what top-level posts look like in a product's Slack or Discord: questions
without a '?', symptom and bug reports, feature requests, onboarding questions, and
the posts that must stay out (chatter, announcements, answers, thanks).

Labels follow the rule in ``bench/DETECTION.md``: 1 = a request for help or
information that expects an answer from someone in the community. A bug report or
symptom report by the person who has the problem is 1, and so is a feature request
addressed to the project. Answers, opinions, announcements and chatter are 0.

``CASES`` holds ``(text, is_question, kind)``; ``kind`` only groups the cases.
"""

from __future__ import annotations

from typing import Final

CASES: Final[list[tuple[str, bool, str]]] = [
    # ---- questions without a question mark
    ("is it possible to self-host the runner on ARM", True, "no-qmark"),
    ("does the python SDK support async clients yet", True, "no-qmark"),
    ("should I use the v2 endpoint or stick with v1 for now", True, "no-qmark"),
    ("what happens to scheduled jobs if I downgrade to the free plan", True, "no-qmark"),
    ("How come archived projects still count toward the seat limit", True, "no-qmark"),
    ("where do I find the audit log for our workspace", True, "no-qmark"),
    ("Would it make sense to run one agent per cluster or one per node", True, "no-qmark"),
    ("I need to migrate our workspace to the EU region", True, "statement"),
    # ---- requests phrased as statements
    ("I need a way to bulk-delete test users from the admin panel", True, "statement"),
    ("Looking for a Terraform module that sets up the webhook relay", True, "statement"),
    ("wondering if there's a way to pin the CLI version in CI", True, "statement"),
    ("Not sure how to rotate the signing secret without downtime", True, "statement"),
    ("I can't figure out where the OAuth callback URL is configured", True, "statement"),
    ("trying to understand how rate limits apply to service accounts", True, "statement"),
    ("Has anyone used the Zapier integration with custom fields", True, "statement"),
    (
        "I was hoping someone could explain the difference between API keys and tokens",
        True,
        "statement",
    ),
    (
        "Would love some guidance on structuring environments for a monorepo :pray:",
        True,
        "statement",
    ),
    ("Please advise, our trial ends tomorrow and billing page is empty", True, "statement"),
    (
        "Help needed: SSO with Azure AD keeps redirecting back to the login page",
        True,
        "statement",
    ),
    (
        "Not sure if this is the right channel, but the invite link in the docs has expired",
        True,
        "statement",
    ),
    # ---- symptom and bug reports
    (
        "Since upgrading to 3.2 the `list_events` call returns 0 rows for every project",
        True,
        "symptom",
    ),
    (
        "the build hangs at step 3 (installing dependencies) on the macOS runners",
        True,
        "symptom",
    ),
    (
        "my bot stopped responding to slash commands after yesterday's deploy",
        True,
        "symptom",
    ),
    ("Getting a 403 on every request since I rotated the API key", True, "symptom"),
    ("When I click Export nothing happens, tried Chrome and Firefox", True, "symptom"),
    ("Webhooks are being delivered twice for every event", True, "symptom"),
    ("The dashboard just spins forever after login :confused:", True, "symptom"),
    ("Push notifications aren't arriving on iOS 17", True, "symptom"),
    ("Seeing weird behaviour with scheduled exports since the last release", True, "symptom"),
    (
        "Upgraded the helm chart to 1.8 and now the migrations job never finishes",
        True,
        "symptom",
    ),
    (
        "<@U02ABCDEF> the docs say the limit is 100 per page but the API returns 50",
        True,
        "symptom",
    ),
    (
        "Hey all :wave: our CI started failing this morning with `ECONNRESET` when pulling "
        "the image",
        True,
        "symptom",
    ),
    # ---- feature requests and onboarding
    ("Feature request: let us export dashboards as PDF", True, "feature"),
    ("It would be great if the CLI could read the token from an env var", True, "feature"),
    ("Any plans to support GitLab self-managed", True, "feature"),
    (
        "New here :wave: where should I start if I want to write a plugin",
        True,
        "onboarding",
    ),
    # ---- chatter
    ("lol same, my cat walked over the keyboard during the demo", False, "chatter"),
    ("Happy Friday everyone :tada:", False, "chatter"),
    ("I agree, the new editor is so much faster", False, "chatter"),
    ("gonna grab lunch, back in 30", False, "chatter"),
    ("I wonder if they'll ever ship the mobile app lol", False, "chatter"),
    ("Honestly the old pricing page was clearer", False, "chatter"),
    ("true, but their CI doesn't deploy on every push like ours does", False, "chatter"),
    ("of course the demo didn't load during the keynote :)", False, "chatter"),
    # ---- announcements
    (
        "We just shipped v2.4 :rocket: dark mode, faster search and a new CLI. Changelog: "
        "<https://example.com/changelog|here>",
        False,
        "announcement",
    ),
    (
        "Reminder: office hours are tomorrow at 4pm UTC in #community-calls",
        False,
        "announcement",
    ),
    (
        "Heads up: the API will be read-only on Sunday from 02:00 to 03:00 UTC for maintenance",
        False,
        "announcement",
    ),
    (
        "Welcome <@U03XYZ> and <@U04QRS> to the community! Introduce yourselves in #intros",
        False,
        "announcement",
    ),
    (
        "The incident from this morning is resolved, webhooks are flowing again. Postmortem "
        "to follow",
        False,
        "announcement",
    ),
    # ---- answers and follow-ups by helpers
    ("you can set it under Settings > Integrations > Tokens", False, "answer"),
    ("try clearing the cache and logging in again", False, "answer"),
    ("I think that's because the token expired, they only last 24h", False, "answer"),
    ("That's a known issue, it's fixed in 2.1.3", False, "answer"),
    ("Make sure the runner has outbound access to port 443", False, "answer"),
    ("We ended up using the REST API directly instead of the SDK", False, "answer"),
    ("It should work if you pass `--region eu` as well", False, "answer"),
    ("I had the same problem, upgrading the agent fixed it for us", False, "answer"),
    # ---- thanks and resolutions
    ("thanks <@U01AAA>, that worked!", False, "thanks"),
    ("nvm, it was a typo in my config :facepalm:", False, "thanks"),
    ("Thanks for the quick fix everyone, really appreciate it", False, "thanks"),
]

# Cases the detector gets wrong, kept in CASES on purpose so the miss stays visible.
# The test marks them xfail(strict=True): if one starts passing, move it out of here.
KNOWN_MISSES: Final[frozenset[str]] = frozenset(
    {
        # A symptom with no failure word at all ("twice" is the only hint).
        "Webhooks are being delivered twice for every event",
        # Mentioning someone first reads like a reply, which outweighs the unmet expectation.
        "<@U02ABCDEF> the docs say the limit is 100 per page but the API returns 50",
    }
)
