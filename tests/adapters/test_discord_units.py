"""The Discord adapter's pure parts: links, embeds within limits, emoji names, placement."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.adapters.discord_adapter import (
    DiscordAdapter,
    Where,
    command_text,
    emoji_name,
    emoji_symbol,
    intents,
    invite_url,
    place,
    sync_state_path,
    tree_digest,
)
from bot.adapters.discord_embeds import (
    DESCRIPTION_LIMIT,
    FIELD_LIMIT,
    FIELD_VALUE_LIMIT,
    TOTAL_LIMIT,
    render_content,
    render_embed,
)
from bot.adapters.discord_links import message_link, parse_channel_link, parse_message_link
from bot.cli import configured_adapters
from bot.core.model import MessageRef, Post, PostItem
from config.settings import ConfigError, load_settings

G, C, M = "81384788765712384", "381870553235193857", "1174343131343421450"
REF = MessageRef("discord", G, C, M)


def test_message_link_round_trip() -> None:
    """A jump URL built for a message parses back to the same message."""
    assert parse_message_link(message_link(REF)) == REF


@pytest.mark.parametrize(
    "link",
    [
        f"https://discord.com/channels/{G}/{C}/{M}",
        f"https://ptb.discord.com/channels/{G}/{C}/{M}",
        f"https://canary.discord.com/channels/{G}/{C}/{M}",
        f"https://discordapp.com/channels/{G}/{C}/{M}",
        f"<https://discord.com/channels/{G}/{C}/{M}>",
        f"  https://discord.com/channels/{G}/{C}/{M}/ ",
    ],
)
def test_message_link_variants_parse(link: str) -> None:
    """Links from every Discord client flavour (and <...> wrapped) name the message."""
    assert parse_message_link(link) == REF


@pytest.mark.parametrize(
    "link",
    [
        f"https://discord.com/channels/{G}/{C}",
        f"https://evil.com/channels/{G}/{C}/{M}",
        f"https://discord.com.evil.com/channels/{G}/{C}/{M}",
        "https://discord.com/channels/@me/1/2",
        f"https://discord.com/channels/{G}/{C}/{M}/extra",
        "local://help/m1",
        "",
    ],
)
def test_non_message_links_are_refused(link: str) -> None:
    """Channel links, other hosts, DMs and garbage are not message links."""
    assert parse_message_link(link) is None


def test_channel_link_is_told_apart() -> None:
    """A thread or forum post link (no message id) is read as guild and channel."""
    assert parse_channel_link(f"https://discord.com/channels/{G}/{C}") == (G, C)
    assert parse_channel_link(message_link(REF)) is None


def _items(n: int, width: int = 110) -> tuple[PostItem, ...]:
    return tuple(
        PostItem(f"#help · member{i} · waiting 2h · “{'x' * width}”", REF) for i in range(n)
    )


def test_200_item_post_stays_within_every_embed_limit() -> None:
    """A 200-item nudge fits 6,000 chars, 25 fields, 1,024 a field, and says how many more."""
    post = Post("200 waiting", "200 questions have passed the target", _items(200), more=0)
    embed = render_embed(post, message_link)
    data = embed.to_dict()
    assert len(embed) <= TOTAL_LIMIT
    assert len(data.get("description", "")) <= DESCRIPTION_LIMIT
    fields = data.get("fields", [])
    assert len(fields) <= FIELD_LIMIT
    assert all(len(f["value"]) <= FIELD_VALUE_LIMIT for f in fields)
    text = data["description"] + "".join(f["value"] for f in fields)
    shown = text.count("• ")
    assert 0 < shown < 200
    assert text.rstrip().endswith(f"…and {200 - shown} more")


def test_more_from_the_core_is_added_to_what_was_cut() -> None:
    """Items the core already left out are counted in the "and N more" line."""
    embed = render_embed(Post("t", "title", _items(3), more=7), message_link)
    assert embed.description is not None
    assert embed.description.endswith("…and 7 more")
    assert embed.description.count("• ") == 3


def test_items_link_to_their_message_and_escape_markdown() -> None:
    """Each list line carries the message's jump URL; member text cannot inject markdown."""
    item = PostItem("maria asks **bold** [x](http://evil)", REF)
    embed = render_embed(Post("t", "Waiting", (item,)), message_link)
    assert embed.description is not None
    assert f"[jump]({message_link(REF)})" in embed.description
    assert "\\*\\*bold\\*\\*" in embed.description
    assert "\\[x\\]" in embed.description or "\\[x]" in embed.description


def test_plain_post_uses_first_line_as_title_and_is_cut() -> None:
    """A text-only post shows its first line as the title and the rest, cut to the limit."""
    embed = render_embed(Post("Last 7d\n" + "y" * 9000), message_link)
    assert embed.title == "Last 7d"
    assert embed.description is not None and len(embed.description) == DESCRIPTION_LIMIT
    assert embed.description.endswith("…")
    assert len(embed) <= TOTAL_LIMIT


def test_long_title_and_content_are_cut() -> None:
    """Titles stop at 256 characters and plain replies at 2,000."""
    embed = render_embed(Post("x", "t" * 400, _items(1)), message_link)
    assert embed.title is not None and len(embed.title) == 256
    assert len(render_content("z" * 5000)) == 2000


@pytest.mark.parametrize(
    ("emoji", "name"),
    [
        ("✅", "white_check_mark"),
        ("✔️", "heavy_check_mark"),
        ("👀", "eyes"),
        ("👍🏽", "+1"),
        ("🦄", "🦄"),
    ],
)
def test_unicode_reactions_get_configuration_names(emoji: str, name: str) -> None:
    """✅ and 👀 read as white_check_mark and eyes, so one config serves both platforms."""
    assert emoji_name(discord.PartialEmoji(name=emoji)) == name


def test_custom_emoji_keep_their_name() -> None:
    """A guild's custom emoji is known by its own name."""
    assert emoji_name(discord.PartialEmoji(name="party_parrot", id=1234)) == "party_parrot"


def test_emoji_names_map_back_to_characters() -> None:
    """The bot can react by name; unknown ascii names are not guessed."""
    assert emoji_symbol("white_check_mark") == "✅"
    assert emoji_symbol(":eyes:") == "👀"
    assert emoji_symbol("🦄") == "🦄"
    assert emoji_symbol("party_parrot") is None


def test_place_of_channel_thread_and_forum_messages() -> None:
    """Threads hang from their starter message; forum posts are keyed by their thread."""
    assert place(Where(G, C), M) == (None, C, False)
    thread = Where(G, "555", parent=C)
    assert place(thread, "777") == (MessageRef("discord", G, C, "555"), C, False)
    forum = Where(G, "555", parent="999", forum=True, title="Dark mode?")
    assert place(forum, "555") == (None, "999", True)
    assert place(forum, "777") == (MessageRef("discord", G, "555", "555"), "999", False)


def test_command_text_keeps_each_option_one_word() -> None:
    """Options become the words the core's parser reads, quoted when they contain spaces."""
    assert command_text("snooze", message_link(REF), "2h") == f"snooze {message_link(REF)} 2h"
    assert command_text("stats", None) == "stats"
    assert command_text("stats", "7 d") == "stats '7 d'"


def test_tree_digest_ignores_order_but_not_content() -> None:
    """The sync hash is stable across command order and changes with any change."""
    a = {"name": "frontline", "type": 1, "description": "x"}
    b = {"name": "Escalate", "type": 3}
    assert tree_digest(1, [a, b]) == tree_digest(1, [b, a])
    assert tree_digest(1, [a, b]) != tree_digest(2, [a, b])
    assert tree_digest(1, [a, b]) != tree_digest(1, [{**a, "description": "y"}, b])


def test_sync_state_lives_next_to_the_database() -> None:
    """The command hash is kept beside the SQLite file, and nowhere for in-memory databases."""
    assert sync_state_path("/data/frontline.db") == Path("/data/frontline.db.discord-commands")
    assert sync_state_path("sqlite:////data/f.db") == Path("/data/f.db.discord-commands")
    assert sync_state_path(":memory:") is None


def test_intents_ask_only_for_what_is_used() -> None:
    """Guilds, guild messages, reactions and (privileged) message content; nothing else."""
    wanted = intents()
    assert wanted.guilds and wanted.guild_messages and wanted.guild_reactions
    assert wanted.message_content
    assert not wanted.members and not wanted.presences and not wanted.dm_messages
    assert not intents(message_content=False).message_content


def test_cli_adds_discord_when_the_token_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """`frontline run` gets a Discord adapter exactly when DISCORD_TOKEN is in the environment."""
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert configured_adapters(load_settings(data={})) == []
    monkeypatch.setenv("DISCORD_TOKEN", "t0ken")
    (adapter,) = configured_adapters(load_settings(data={}))
    assert isinstance(adapter, DiscordAdapter) and adapter.name == "discord"
    assert adapter.platform.name == "discord"


def test_bad_override_urls_are_refused_with_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DISCORD_API_URL that is not an http URL is a configuration error naming the key."""
    monkeypatch.setenv("DISCORD_TOKEN", "t0ken")
    settings = load_settings(data={})
    with pytest.raises(ConfigError, match="DISCORD_API_URL"):
        DiscordAdapter(settings, env={"DISCORD_API_URL": "ftp://x"})
    with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL"):
        DiscordAdapter(settings, env={"DISCORD_GATEWAY_URL": "http://x"})


def test_invite_asks_for_exactly_the_documented_permissions() -> None:
    """The invite link's permission integer is the one README.md shows."""
    url = invite_url(1234)
    assert "permissions=274877991936" in url and "applications.commands" in url
    guide = Path(__file__).parents[2] / "README.md"
    assert "permissions=274877991936" in guide.read_text(encoding="utf-8")


def test_labelled_fields_share_the_limits_with_a_long_list() -> None:
    """Labelled facts stay whole and first; the list overflow uses the fields left over."""
    facts = tuple((f"fact{i}", "v" * 30) for i in range(5))
    embed = render_embed(Post("t", "title", _items(200), fields=facts), message_link)
    data = embed.to_dict()
    assert len(embed) <= TOTAL_LIMIT
    assert len(data["fields"]) <= FIELD_LIMIT
    assert [f["name"] for f in data["fields"] if f["name"].startswith("fact")] == [
        f"fact{i}" for i in range(5)
    ]
